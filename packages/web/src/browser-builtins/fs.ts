/** `node:fs` in the browser page: no file system; every function throws naming itself. */
import { unavailableFunction } from './unavailable.js';

export const constants = { O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 64, O_EXCL: 128, O_TRUNC: 512, O_NOFOLLOW: 131072, O_NONBLOCK: 2048 };
export type Stats = never;

export const closeSync = unavailableFunction('fs.closeSync');
export const existsSync = unavailableFunction('fs.existsSync');
export const fstatSync = unavailableFunction('fs.fstatSync');
export const fsyncSync = unavailableFunction('fs.fsyncSync');
export const ftruncateSync = unavailableFunction('fs.ftruncateSync');
export const mkdirSync = unavailableFunction('fs.mkdirSync');
export const mkdtempSync = unavailableFunction('fs.mkdtempSync');
export const openSync = unavailableFunction('fs.openSync');
export const readdirSync = unavailableFunction('fs.readdirSync');
export const readFileSync = unavailableFunction('fs.readFileSync');
export const readSync = unavailableFunction('fs.readSync');
export const realpathSync = unavailableFunction('fs.realpathSync');
export const renameSync = unavailableFunction('fs.renameSync');
export const rmSync = unavailableFunction('fs.rmSync');
export const statfsSync = unavailableFunction('fs.statfsSync');
export const statSync = unavailableFunction('fs.statSync');
export const symlinkSync = unavailableFunction('fs.symlinkSync');
export const truncateSync = unavailableFunction('fs.truncateSync');
export const unlinkSync = unavailableFunction('fs.unlinkSync');
export const utimesSync = unavailableFunction('fs.utimesSync');
export const writeFileSync = unavailableFunction('fs.writeFileSync');
export const writeSync = unavailableFunction('fs.writeSync');
