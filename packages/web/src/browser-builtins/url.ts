/** `node:url` in the browser page: file URLs need a file system, so these throw. */
import { unavailableFunction } from './unavailable.js';

export const fileURLToPath = unavailableFunction('url.fileURLToPath');
export const pathToFileURL = unavailableFunction('url.pathToFileURL');
