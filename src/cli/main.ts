#!/usr/bin/env node
/**
 * The `nsm` executable: see {@link run}.
 * @module
 */
import { errorMessage } from '../tools/grpc/status.js';
import { run } from './index.js';

run(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`nsm: ${errorMessage(error)}\n`);
    process.exit(1);
  },
);
