import { definePass } from '@modelpass/pass-manager';
import { inlineModelFunctions } from '../util/inline-functions.js';
import { preserved } from './pattern-pass.js';

export const inlineFunctions = definePass({
  name: 'inline-functions',
  summary: 'Replace every call of a model-local function by a copy of its body, then drop the functions',
  description:
    "Every node calling a model-local function (ONNX FunctionProto, e.g. torch.onnx.export(export_modules_as_functions=True)) is " +
    "replaced by a copy of the function's body: the call's inputs and outputs bound (the outputs keep their names), node and " +
    "value names prefixed with the call node's name, attribute references resolved from the call's attributes or the function's " +
    "defaults, nested calls inlined too. The functions' opset imports are merged into the model's (a version conflict is refused, " +
    'naming the function); the functions are dropped afterwards. Calls inside subgraphs are inlined too; a function whose body ' +
    'holds subgraphs is refused. convert runs it before legalize-tflite and the TorchScript writer.',
  statistics: ['calls-inlined', 'nodes-added', 'functions-dropped'],
  run(model, context) {
    const result = inlineModelFunctions(model, (message) => context.debug(message));
    context.statistic('calls-inlined', result.callsInlined);
    context.statistic('nodes-added', result.nodesAdded);
    context.statistic('functions-dropped', result.functionsDropped);
    return preserved(context, result.callsInlined > 0 || result.functionsDropped > 0);
  },
});
