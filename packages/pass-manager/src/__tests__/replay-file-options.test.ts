import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, printModel } from '@modelpass/ir';
import { definePass, describeFileOptionUse, fileOptionUses, option, parsePipeline, replayReproducer } from '@modelpass/pass-manager';
import { smallModel, testEnvironment, testRegistry } from './fixtures.js';

const temp = mkdtempSync(join(tmpdir(), 'pm-replay-files-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Writes its `report` file and reads nothing: stands in for quantize-static{report=…}. */
const writeReport = definePass({
  name: 'write-report',
  summary: 'writes a report file',
  options: {
    report: option.string({ default: '', files: 'write' }),
    inputs: option.list(option.string({ files: 'read' }), { default: [] }),
    label: option.string({ default: '' }),
  },
  run(_model, context) {
    if (context.options.report !== '') writeFileSync(context.options.report, 'written by the replay');
    return context.preserveAll();
  },
});
const environment = () => testEnvironment(testRegistry().register(writeReport));

function reproducer(name: string, pipeline: string): string {
  const directory = join(temp, name);
  mkdirSync(directory);
  writeFileSync(join(directory, 'input.mpir'), printModel(smallModel()));
  writeFileSync(join(directory, 'pipeline.txt'), `${pipeline}\n`);
  return directory;
}

describe('fileOptionUses', () => {
  it('lists the given values of options declared files: read | write, in anchors too, and nothing else', () => {
    const pipeline = parsePipeline('canonicalize,repeat{times=2}(write-report{report=/tmp/r.json inputs=[a.npy,"b c"] label=/not/a/file}),write-report', environment().passes);
    expect(fileOptionUses(pipeline.steps).map(describeFileOptionUse)).toEqual([
      'write-report report="/tmp/r.json" (writes)',
      'write-report inputs="a.npy" (reads)',
      'write-report inputs="b c" (reads)',
    ]);
  });
});

describe('replaying a pipeline.txt whose options name files (QA s20 H: replay wrote wherever report= said)', () => {
  it('is refused before any pass runs, naming each path; allowFiles runs it', async () => {
    const outside = join(temp, 'victim');
    mkdirSync(outside);
    const target = join(outside, 'owned.txt');
    const directory = reproducer('hostile', `canonicalize,write-report{report=${JSON.stringify(target)}}`);
    const error = (await replayReproducer(directory, { environment: environment() }).catch((e: unknown) => e)) as ModelpassError;
    expect(ModelpassError.is(error)).toBe(true);
    expect(error.reason).toBe(`'${join(directory, 'pipeline.txt')}' names files the replay would read or write; nothing was run`);
    expect(error.diagnostics[0]!.notes).toEqual([`write-report report=${JSON.stringify(target)} (writes)`]);
    expect(error.diagnostics[0]!.hint).toMatch(/allowFiles: true \(modelpass replay DIR --allow-files\)/);
    expect(existsSync(target)).toBe(false);

    const replayed = await replayReproducer(directory, { environment: environment(), allowFiles: true });
    expect(replayed.reproduced).toBe(false);
    expect(readFileSync(target, 'utf8')).toBe('written by the replay');
  });

  it('still replays a pipeline whose options name no file', async () => {
    const directory = reproducer('plain', 'canonicalize,write-report{label=x}');
    expect((await replayReproducer(directory, { environment: environment() })).reproduced).toBe(false);
  });
});
