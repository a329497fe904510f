import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelpassError, readModelText, type ParseOptions } from '@modelpass/ir';
import { PassEnvironment, type PluginRecord } from '../environment.js';
import { describeValue } from '../pass-registry.js';
import { PassManager, type PassManagerOptions } from '../pass-manager.js';
import { loadPlugin } from '../plugin/load-plugin.js';
import { describeFileOptionUse, fileOptionUses } from '../pipeline/file-options.js';
import { REPRODUCER_FILES } from './crash-reproducer.js';
import type { PipelineResult } from './instrumentation.js';

export interface ReplayOptions extends Omit<PassManagerOptions, 'environment'> {
  /** The built-in passes and ops (plugins named in `plugins.json` are loaded into a copy of it). */
  readonly environment?: PassEnvironment;
  /** Where plugin package names recorded without a path are resolved from (default `process.cwd()`). */
  readonly cwd?: string;
  /**
   * Folders `input.mpir` may read weights from besides the reproducer's own folder (reproducers
   * written before they became self-contained reference weights by absolute path).
   */
  readonly allowRead?: ParseOptions['allowRead'];
  /**
   * Run a pipeline.txt whose pass options name files (`dataset=`, `report=`, `teacher=`, `checkpoint=`: options
   * declared `files: 'read' | 'write'`). Without it such a reproducer is refused before anything runs: its
   * pipeline can name any path, and `report=` or `checkpoint=` write there.
   */
  readonly allowFiles?: boolean;
}

/** What a replay that did NOT fail found (the failure did not reproduce). */
export interface ReplayResult {
  readonly reproduced: false;
  readonly result: PipelineResult;
  readonly pipeline: string;
}

function notAReproducer(directory: string, reason: string): ModelpassError {
  return new ModelpassError({
    reason: `'${directory}' is not a modelpass reproducer: ${reason}`,
    expected: `a folder with ${REPRODUCER_FILES.input} and ${REPRODUCER_FILES.pipeline} (written by the crash reproducer)`,
    source: '@modelpass/pass-manager',
    code: 'replay/not-a-reproducer',
  });
}

/** A plugins.json record must be `{ name, version, specifier?, path? }` with string fields. */
function checkPluginRecord(directory: string, record: unknown, index: number): asserts record is PluginRecord {
  const file = join(directory, REPRODUCER_FILES.plugins);
  const fail = (what: string, actual: unknown): never => {
    throw new ModelpassError({
      reason: `'${file}': plugin record [${index}] ${what}`,
      expected: '{ "name": string, "version": string, "specifier"?: string, "path"?: string }',
      actual: describeValue(actual),
      source: '@modelpass/pass-manager',
      code: 'replay/not-a-reproducer',
      location: { file },
    });
  };
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return fail('is not an object', record);
  const fields = record as Record<string, unknown>;
  if (typeof fields['name'] !== 'string' || fields['name'] === '') fail("has no string 'name'", fields['name']);
  if (typeof fields['version'] !== 'string') fail("has no string 'version'", fields['version']);
  for (const key of ['specifier', 'path']) {
    if (fields[key] !== undefined && typeof fields[key] !== 'string') fail(`has a '${key}' that is not a string`, fields[key]);
  }
}

function readText(directory: string, file: string): string {
  const path = join(directory, file);
  if (!existsSync(path)) throw notAReproducer(directory, `${file} is missing`);
  return readFileSync(path, 'utf8');
}

/**
 * Checks that `directory` is a reproducer (it exists, with input.mpir and pipeline.txt) and returns the plugin
 * records of its plugins.json, each checked to be `{ name, version, specifier?, path? }` — before any plugin is
 * imported, so a caller that loads plugins itself (the CLI's replay) imports nothing from a folder that is no
 * reproducer or names a malformed record (QA s16: the CLI imported plugin files first).
 */
export function reproducerPlugins(directory: string): PluginRecord[] {
  const dir = resolve(directory);
  if (!existsSync(dir)) throw notAReproducer(directory, 'it does not exist');
  for (const file of [REPRODUCER_FILES.pipeline, REPRODUCER_FILES.input]) {
    if (!existsSync(join(dir, file))) throw notAReproducer(directory, `${file} is missing`);
  }
  let plugins: unknown = [];
  if (existsSync(join(dir, REPRODUCER_FILES.plugins))) {
    try {
      plugins = JSON.parse(readText(dir, REPRODUCER_FILES.plugins));
      if (!Array.isArray(plugins)) throw new Error('not an array');
    } catch (error) {
      throw notAReproducer(directory, `${REPRODUCER_FILES.plugins} is not a JSON array of plugins (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const records = plugins as unknown[];
  records.forEach((record, index) => checkPluginRecord(directory, record, index));
  return records as PluginRecord[];
}

/**
 * Replays a reproducer folder: parses `input.mpir`, loads the plugins of `plugins.json` (those not
 * already in the environment), and runs `pipeline.txt` with verify-each. When the failure
 * reproduces, the same error is raised again (a ModelpassError naming the same pass); otherwise
 * the result says it did not reproduce.
 */
export async function replayReproducer(directory: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const dir = resolve(directory);
  const plugins = reproducerPlugins(directory);
  const pipeline = readText(dir, REPRODUCER_FILES.pipeline).trim();
  const model = readModelText(join(dir, REPRODUCER_FILES.input), options.allowRead !== undefined ? { allowRead: options.allowRead } : {});
  const environment = (options.environment ?? new PassEnvironment()).clone();
  const cwd = options.cwd ?? process.cwd();
  for (const record of plugins) {
    if (environment.hasPlugin(record.name)) continue;
    const specifier = record.path ?? record.specifier;
    if (specifier === undefined) {
      throw new ModelpassError({
        reason: `the reproducer needs plugin '${record.name}'@${record.version}, which was passed in code and cannot be loaded from here`,
        hint: 'pass an environment that already has the plugin registered',
        source: '@modelpass/pass-manager',
        code: 'replay/missing-plugin',
      });
    }
    const loaded = await loadPlugin(specifier, { cwd });
    environment.use(loaded);
  }
  const { environment: _environment, cwd: _cwd, allowRead: _allowRead, allowFiles, ...passManagerOptions } = options;
  const manager = new PassManager({ ...passManagerOptions, environment });
  const parsed = manager.parse(pipeline);
  const files = fileOptionUses(parsed.steps);
  if (files.length > 0 && allowFiles !== true) {
    const file = join(dir, REPRODUCER_FILES.pipeline);
    throw new ModelpassError({
      reason: `'${file}' names files the replay would read or write; nothing was run`,
      notes: files.map(describeFileOptionUse),
      expected: 'a pipeline whose options name no files, or allowFiles: true',
      hint: 'a reproducer is data from someone else: check those paths, and if you trust them replay with allowFiles: true (modelpass replay DIR --allow-files)',
      location: { file },
      source: '@modelpass/pass-manager',
      code: 'replay/files-not-allowed',
    });
  }
  const result = await manager.run(model, parsed);
  return { reproduced: false, result, pipeline };
}
