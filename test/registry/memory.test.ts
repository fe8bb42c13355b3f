import { NS_KIND, NSE_KIND } from '../../src/registry/core/kind.js';
import { memoryStore } from '../../src/registry/common/memory/index.js';
import { registryConformance } from './conformance.js';

registryConformance('memory store', () =>
  Promise.resolve({ nse: memoryStore(NSE_KIND), ns: memoryStore(NS_KIND), close: () => Promise.resolve() }),
);
