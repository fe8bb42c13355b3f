import { expect } from 'chai';
import { cdfPlot, escapeXml, linePlot, writePlot } from './svg.js';

/** The `points` of every polyline in `svg`, as [x, y] pairs. */
function polylines(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) =>
    (m[1] ?? '')
      .split(' ')
      .filter((p) => p !== '')
      .map((p) => p.split(',').map(Number) as [number, number]),
  );
}

/** Every `<tag` opened in `svg` is closed (`/>` or `</tag>`), in order. */
function balanced(svg: string): boolean {
  const open: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name = '', selfClosing] = m;
    if (selfClosing === '/') continue;
    if (closing === '/') {
      if (open.pop() !== name) return false;
    } else open.push(name);
  }
  return open.length === 0;
}

describe('benchmark SVG plots', () => {
  const latencies = (n: number, scale: number): number[] => Array.from({ length: n }, (_, i) => scale * (1 + ((i * 7919) % n)));

  it('draws a CDF: one polyline per series, well formed, 640 × 360', () => {
    const svg = cdfPlot('Request latency', 'ms', [
      { label: 'raw', values: latencies(100, 0.1) },
      { label: 'nsm-sdk', values: latencies(50, 0.4) },
      { label: 'shared', values: [3, 1, 2] },
    ]);
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg.endsWith('</svg>')).to.equal(true);
    expect(svg).to.include('width="640"').and.include('height="360"');
    expect(balanced(svg)).to.equal(true);
    expect(svg.match(/<polyline/g)).to.have.length(3);
    expect(svg).to.include('(log scale)'); // 0.1 .. 20: max/min > 20
    const colours = [...svg.matchAll(/<polyline[^>]*stroke="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(colours).size).to.equal(3);
  });

  it('draws each CDF rising: y fraction (up = smaller svg y) never falls, x never goes back', () => {
    const svg = cdfPlot('t', 'µs', [{ label: 'a', values: [5, 1, 4, 1, 3, 9, 2, 6] }, { label: 'b', values: latencies(200, 1) }]);
    for (const points of polylines(svg)) {
      expect(points.length).to.be.greaterThan(0);
      for (let i = 1; i < points.length; i++) {
        const [x0 = 0, y0 = 0] = points[i - 1] ?? [];
        const [x1 = 0, y1 = 0] = points[i] ?? [];
        expect(y1, `point ${i}`).to.be.at.most(y0);
        expect(x1, `point ${i}`).to.be.at.least(x0);
      }
    }
  });

  it('uses a linear x axis when max/min is small, with 4 to 6 tick labels', () => {
    const svg = cdfPlot('t', 'ms', [{ label: 'a', values: [10, 12, 15, 19] }]);
    expect(svg).not.to.include('log scale');
    const xTicks = [...svg.matchAll(/<text x="[\d.]+" y="315" text-anchor="middle">([^<]*)</g)].map((m) => m[1]);
    expect(xTicks.length).to.be.within(4, 6);
  });

  it('escapes text for XML', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).to.equal('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
    const svg = cdfPlot('x < y & z', 'ms', [{ label: 'a<b', values: [1, 2] }]);
    expect(svg).to.include('a&lt;b').and.include('x &lt; y &amp; z');
    expect(svg).not.to.include('a<b');
    expect(balanced(svg)).to.equal(true);
    const line = linePlot('t', 'x"', "y'", [{ label: 'a<b', points: [[1, 2]] }]);
    expect(line).to.include('a&lt;b').and.include('x&quot;').and.include('y&apos;');
  });

  it('does not throw on empty series (or no series), nor on non-finite values', () => {
    for (const svg of [
      cdfPlot('t', 'ms', []),
      cdfPlot('t', 'ms', [{ label: 'empty', values: [] }, { label: 'one', values: [7] }]),
      cdfPlot('t', 'ms', [{ label: 'odd', values: [Number.NaN, Infinity, 0, 0] }]),
      linePlot('t', 'x', 'y', []),
      linePlot('t', 'x', 'y', [{ label: 'empty', points: [] }]),
    ]) {
      expect(svg.startsWith('<svg') && svg.endsWith('</svg>')).to.equal(true);
      expect(balanced(svg)).to.equal(true);
      expect(svg).not.to.include('NaN').and.not.to.include('Infinity');
    }
    expect(cdfPlot('t', 'ms', [{ label: 'empty', values: [] }, { label: 'b', values: [] }]).match(/<polyline/g)).to.have.length(2);
  });

  it('draws lines of cost against a count', () => {
    const svg = linePlot('Heap per connection', 'connections', 'KiB per connection', [
      { label: 'client', points: [[1000, 9], [10, 20], [100, 12]] },
      { label: 'manager', points: [[10, 30], [100, 25], [1000, 24]] },
    ]);
    expect(balanced(svg)).to.equal(true);
    const [client] = polylines(svg);
    expect(client).to.have.length(3);
    const xs = (client ?? []).map(([x]) => x);
    expect(xs).to.deep.equal([...xs].sort((a, b) => a - b)); // drawn in x order
  });

  it('refuses a plot name that is not a plain file name', () => {
    expect(() => writePlot('../escape', '<svg/>')).to.throw(/plot name/);
  });
});
