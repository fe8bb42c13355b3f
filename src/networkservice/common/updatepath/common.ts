import { randomUUID } from 'node:crypto';
import { Path, PathSegment, type Connection } from '../../../api/gen/connection.js';
import { status, statusError } from '../../../tools/grpc/status.js';

/**
 * Moves `conn` onto this hop's path segment, named `name`, and returns the index of the segment the
 * connection arrived with (the previous hop's, or this hop's own on a refresh). On return `conn.path.index`
 * points at this hop's segment and `conn.id` is that segment's id.
 *
 * - An empty path gets this hop as its first segment, keeping `conn.id` (or a fresh id if there is none).
 * - When the current segment already has this name, the connection is being refreshed: only `conn.id` is
 *   taken from the segment.
 * - Otherwise the connection comes from the previous hop: its id must be that hop's segment id; the
 *   following segment is reused when it already has this name (a refresh passing through), replaced when it
 *   has another (the path changed after this point), or appended with a fresh id.
 *
 * @throws NsmStatusError INVALID_ARGUMENT when `path.index` is past the end of the path, or when `conn.id`
 *   is not the id of the current segment; `conn` is left unchanged then.
 */
export function updatePath(conn: Connection, name: string): number {
  conn.path ??= Path.create();
  const path = conn.path;
  const segments = path.pathSegments;

  if (segments.length === 0) {
    path.index = 0;
    if (conn.id === '') conn.id = randomUUID();
    segments.push(PathSegment.create({ name, id: conn.id }));
    return 0;
  }

  const current = segments[path.index];
  if (current !== undefined && current.name === name) {
    conn.id = current.id;
    return path.index;
  }

  if (current === undefined) {
    throw statusError(
      status.INVALID_ARGUMENT,
      `path index ${path.index} is out of range: Path.Index+1==${path.index + 1} should be less or equal ` +
        `len(Path.PathSegments)==${segments.length}`,
    );
  }
  if (current.id !== conn.id) {
    throw statusError(
      status.INVALID_ARGUMENT,
      `Current PathSegment.Id==${current.id} should be equal Connection.Id==${conn.id}`,
    );
  }

  const prevIndex = path.index;
  path.index = prevIndex + 1;
  const following = segments[path.index];
  if (following === undefined) {
    conn.id = randomUUID();
    segments.push(PathSegment.create({ name, id: conn.id }));
  } else {
    if (following.name !== name) {
      // The path beyond the previous hop went elsewhere before; this hop starts its own part afresh.
      following.name = name;
      following.id = randomUUID();
    }
    conn.id = following.id;
  }
  return prevIndex;
}

/**
 * Puts a returned connection back into the caller's view: its id and index become those of the segment
 * the request arrived with. A connection that lacks that segment is left alone, as there is nothing to
 * restore from.
 */
export function restoreCallerView(conn: Connection, prevIndex: number): void {
  const segment = conn.path?.pathSegments[prevIndex];
  if (conn.path === undefined || segment === undefined) return;
  conn.id = segment.id;
  conn.path.index = prevIndex;
}
