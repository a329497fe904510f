/**
 * A folder the user hands over is read only inside itself: an entry that is a symbolic link to a path
 * outside the folder is not followed (a downloaded dataset or model folder could otherwise feed any
 * file the user can read). Used by data folders (`listTensorFiles`) and `modelpass batch`.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { sep } from 'node:path';

/** The target of `path` (an entry of `folder`) when it is a symbolic link to outside `folder`; else undefined. */
export function linkOutOfFolder(folder: string, path: string): string | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
    const target = realpathSync(path);
    const root = realpathSync(folder);
    return target === root || target.startsWith(root + sep) ? undefined : target;
  } catch {
    return undefined; // a dangling link: reading it gives the usual 'cannot read' error
  }
}
