import { ModelpassError } from '@modelpass/ir';

/** A scaffold that cannot be written as asked (bad name, occupied folder, unusable checkout). */
export class ScaffoldError extends ModelpassError {
  constructor(reason: string, extra: { expected?: string; hint?: string; file?: string; cause?: unknown } = {}) {
    const { file, ...rest } = extra;
    super({ reason, source: '@modelpass/create-pass', code: 'create-pass/invalid', ...(file ? { location: { file } } : {}), ...rest });
  }
}
