/**
 * Scratch files of targets that need the filesystem (readOnnx, replay, plugin resolution) live in
 * one folder per run (`options.scratchDir`, made and removed by the campaign or the replay), so
 * killed workers leave nothing behind in the temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function createScratch() {
  return mkdtempSync(join(tmpdir(), 'modelpass-fuzz-'));
}

export function removeScratch(dir) {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function scratchFolder(options) {
  if (!options?.scratchDir) throw new Error('the fuzz target needs options.scratchDir (made by runCampaign or replayInput)');
  return options.scratchDir;
}
