/**
 * Golden text IR of legalize-tflite and raise-tflite (fixtures/<pass>/<case>/{input,output}.mpir,
 * options.json), run with verify-each against the canonical op set plus the tflite dialect. The
 * numbers behind these rewrites are checked in the TFLite runtime and ONNX Runtime by
 * packages/conformance (tflite-legalize-*.test.ts). `UPDATE_GOLDENS=1` rewrites the outputs.
 */
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment } from '@modelpass/pass-manager';
import { registerTfliteDialect, tflitePasses } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';
import { runGoldenCases } from '@modelpass/testing';

runGoldenCases({
  dir: new URL('../../fixtures', import.meta.url),
  title: 'legalize-tflite / raise-tflite golden IR',
  environment: () => {
    const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
    environment.passes.register(transformPasses, '@modelpass/transforms');
    environment.passes.register(tflitePasses, '@modelpass/tflite');
    return environment;
  },
  requireCasesFor: ['legalize-tflite', 'raise-tflite'],
});
