/**
 * Reading a non-watching Find as a list.
 * @module
 */
import { firstValueFrom, toArray, type Observable } from 'rxjs';
import type { FindResult } from './types.js';

/** The items a non-watching find returns, deleted entries left out. */
export async function findAll<R>(results: Observable<FindResult<R>>): Promise<R[]> {
  const all = await firstValueFrom(results.pipe(toArray()));
  return all.filter((r) => !r.deleted).map((r) => r.item);
}
