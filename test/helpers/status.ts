import { expect } from 'chai';
import { NsmStatusError } from '../../src/tools/grpc/status.js';

/** Awaits `promise`, expects it to reject with an NsmStatusError, and returns that error. */
export async function statusRejection(promise: Promise<unknown>): Promise<NsmStatusError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(NsmStatusError);
    return error as NsmStatusError;
  }
  return expect.fail('expected the call to fail with a status error');
}
