import { expect } from 'chai';
import { RegistrantTable, registrantOnly, type RegistrantInput } from '../../../src/tools/policy/index.js';

describe('registry ownership policy', () => {
  const input = (registrant: string, owner: string | undefined, operation: RegistrantInput['operation'] = 'register'): RegistrantInput => ({
    operation,
    name: 'nse-1',
    registrant,
    owner,
  });

  it('an unclaimed name, or the owner itself, passes; anyone else is refused by name', async () => {
    expect(await registrantOnly.check(input('spiffe://td/nse/a', undefined))).to.equal(undefined);
    expect(await registrantOnly.check(input('spiffe://td/nse/a', 'spiffe://td/nse/a'))).to.equal(undefined);
    const refused = await registrantOnly.check(input('spiffe://td/nse/b', 'spiffe://td/nse/a', 'unregister'));
    expect(refused?.reason).to.equal('"nse-1" is registered by spiffe://td/nse/a; spiffe://td/nse/b may not unregister it');
  });

  it('a claim ends on release and when the registration expires, so the table holds no more than the registry', () => {
    const table = new RegistrantTable();
    table.claim('nse-1', 'spiffe://td/nse/a', 1_000, 0);
    table.claim('nse-2', 'spiffe://td/nse/b', Number.POSITIVE_INFINITY, 0);
    expect(table.ownerOf('nse-1', 999)).to.equal('spiffe://td/nse/a');
    expect(table.ownerOf('nse-1', 1_000), 'expired: free again').to.equal(undefined);
    expect(table.size).to.equal(1);
    table.release('nse-2');
    expect(table.ownerOf('nse-2', 0)).to.equal(undefined);
    expect(table.size).to.equal(0);
  });

  it('expired claims nobody asks about again are swept as the table grows', () => {
    const table = new RegistrantTable();
    for (let i = 0; i < 1023; i++) table.claim(`old-${i}`, 'spiffe://td/nse/a', 10, 0);
    table.claim('new', 'spiffe://td/nse/a', 1_000_000, 100);
    expect(table.size).to.equal(1);
  });
});
