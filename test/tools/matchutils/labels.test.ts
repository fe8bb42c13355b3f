import { expect } from 'chai';
import { expandTemplate, isSubset } from '../../../src/tools/matchutils/index.js';

describe('matchutils: templates', () => {
  it('returns a string without placeholders as is', () => {
    expect(expandTemplate('node-1', { nodeName: 'x' })).to.equal('node-1');
    expect(expandTemplate('', {})).to.equal('');
  });

  it('expands a placeholder from values', () => {
    expect(expandTemplate('{{.nodeName}}', { nodeName: 'node-1' })).to.equal('node-1');
    expect(expandTemplate('on-{{.nodeName}}!', { nodeName: 'node-2' })).to.equal('on-node-2!');
  });

  it('allows whitespace inside the braces', () => {
    expect(expandTemplate('{{ .nodeName }}', { nodeName: 'node-1' })).to.equal('node-1');
    expect(expandTemplate('{{\t.nodeName  }}', { nodeName: 'node-3' })).to.equal('node-3');
  });

  it('expands several placeholders, including the same one twice', () => {
    const values = { zone: 'eu', nodeName: 'n1' };
    expect(expandTemplate('{{.zone}}/{{ .nodeName }}/{{.zone}}', values)).to.equal('eu/n1/eu');
  });

  it('does not re-expand braces that come from a value', () => {
    expect(expandTemplate('{{.a}}', { a: '{{.b}}', b: 'no' })).to.equal('{{.b}}');
  });

  it('is undefined when a placeholder names a missing key', () => {
    expect(expandTemplate('{{.nodeName}}', {})).to.be.undefined;
    expect(expandTemplate('{{.zone}}-{{.nodeName}}', { zone: 'eu' })).to.be.undefined;
    // Keys inherited from Object.prototype are not values.
    expect(expandTemplate('{{.constructor}}', {})).to.be.undefined;
  });

  it('is undefined for malformed templates', () => {
    expect(expandTemplate('{{.nodeName', { nodeName: 'n' })).to.be.undefined;
    expect(expandTemplate('.nodeName}}', { nodeName: 'n' })).to.be.undefined;
    expect(expandTemplate('{{.a}} }}', { a: 'n' })).to.be.undefined;
    expect(expandTemplate('{{nodeName}}', { nodeName: 'n' })).to.be.undefined;
    expect(expandTemplate('{{}}', {})).to.be.undefined;
    expect(expandTemplate('{{.node-name}}', { 'node-name': 'n' })).to.be.undefined;
  });
});

describe('matchutils: isSubset', () => {
  it('accepts labels with extra keys and an empty or missing selector', () => {
    expect(isSubset({ app: 'fw', zone: 'eu' }, { app: 'fw' }, {})).to.be.true;
    expect(isSubset({ app: 'fw' }, {}, {})).to.be.true;
    expect(isSubset(undefined, undefined, {})).to.be.true;
    expect(isSubset({}, undefined, {})).to.be.true;
  });

  it('rejects a missing key or a different value', () => {
    expect(isSubset({ app: 'fw' }, { app: 'fw', zone: 'eu' }, {})).to.be.false;
    expect(isSubset({ app: 'fw' }, { app: 'vpn' }, {})).to.be.false;
    expect(isSubset(undefined, { app: 'fw' }, {})).to.be.false;
    // An empty selector value still needs the key (Go would read a missing key as "").
    expect(isSubset({}, { app: '' }, {})).to.be.false;
    expect(isSubset({}, { toString: 'x' }, {})).to.be.false;
  });

  it('expands selector templates from values', () => {
    const selector = { nodeName: '{{.nodeName}}' };
    expect(isSubset({ nodeName: 'node-1' }, selector, { nodeName: 'node-1' })).to.be.true;
    expect(isSubset({ nodeName: 'node-1' }, selector, { nodeName: 'node-2' })).to.be.false;
    expect(isSubset({ nodeName: 'node-1' }, { nodeName: '{{ .nodeName }}' }, { nodeName: 'node-1' })).to.be.true;
  });

  it('compares an unexpandable template literally', () => {
    const selector = { nodeName: '{{.nodeName}}' };
    expect(isSubset({ nodeName: 'node-1' }, selector, {})).to.be.false;
    expect(isSubset({ nodeName: '{{.nodeName}}' }, selector, {})).to.be.true;
    expect(isSubset({ nodeName: '{{.nodeName' }, { nodeName: '{{.nodeName' }, {})).to.be.true;
  });
});
