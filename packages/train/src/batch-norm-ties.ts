/**
 * Refuses BatchNormalization nodes whose running mean or variance is not a tensor of their own: the same
 * initializer as another input (e.g. torch.onnx.export's deduplication turns an untrained BatchNorm's
 * running_var (ones) and running_mean (zeros) into `Identity(bn.weight)` / `Identity(bn.bias)`), an
 * initializer another node also reads, or (with batch statistics) a value computed by a node. Training
 * such a model would run without complaint and then infer wrongly: the statistics move with the
 * trainable tensor they are tied to, or never receive their updates.
 */
import { ModelpassError, type DiagnosticInit, type Model, type Node, type Value } from '@modelpass/ir';

const STATISTICS = [
  { index: 3, what: 'running mean' },
  { index: 4, what: 'running variance' },
] as const;

const INPUT_NAMES = ['X', 'scale', 'B', 'input_mean', 'input_var'];

const HINT =
  "give each running mean and variance an initializer of its own: copy the tied initializer under the statistic's name and drop the Identity " +
  "(torch.onnx.export merges equal initializers, e.g. an untrained BatchNorm's running_var of ones with its weight; " +
  'undo_shared_initializers in tools/fixtures/make_distill_models.py does this with the onnx package)';

/** The value behind a chain of Identity nodes, and the chain's values (from `value` on). */
function throughIdentities(value: Value): { source: Value; chain: Value[] } {
  const chain: Value[] = [];
  let source = value;
  while (source.producer?.op === 'onnx.Identity' && source.producer.input(0)) {
    chain.push(source);
    source = source.producer.input(0)!;
  }
  return { source, chain };
}

interface Reader {
  readonly text: string;
  /** Another BatchNormalization's running mean or variance slot (read, never trained). */
  readonly statisticSlot: boolean;
}

/** Every reader of `source` (directly or through `chain`'s Identities) other than that chain and `reader`'s input `index`. */
function otherReaders(source: Value, chain: readonly Value[], reader: Node, index: number): Reader[] {
  const links = new Set(chain.map((value) => value.producer));
  const readers: Reader[] = [];
  for (const value of [source, ...chain]) {
    for (const use of value.uses) {
      if (use.isGraphOutput) { readers.push({ text: `graph output '${value.name}'`, statisticSlot: false }); continue; }
      const node = use.node!;
      if (links.has(node) || (node === reader && use.index === index && value === (chain[0] ?? source))) continue;
      const isBatchNorm = node.op === 'onnx.BatchNormalization';
      const slot = isBatchNorm ? INPUT_NAMES[use.index] ?? `input ${use.index}` : `input ${use.index}`;
      readers.push({ text: `${node === reader ? 'its own' : `${node.op.replace(/^onnx\./, '')} '${node.name}'`} ${slot}`, statisticSlot: isBatchNorm && (use.index === 3 || use.index === 4) });
    }
  }
  return readers;
}

/**
 * Throws one ModelpassError listing every BatchNormalization whose running statistics are tied to another
 * tensor. `batchStatistics`: training mode, where the statistics must be initializers of their own so
 * that the trainer can write their updates back.
 */
export function refuseTiedBatchNormStatistics(model: Model, batchStatistics: boolean): void {
  const problems: DiagnosticInit[] = [];
  for (const node of model.graph.nodesOf('onnx.BatchNormalization')) {
    for (const { index, what } of STATISTICS) {
      const statistic = node.input(index);
      if (!statistic) continue;
      const { source, chain } = throughIdentities(statistic);
      const location = { node: node.name, op: node.op };
      const via = chain.length ? ` (through ${chain.length === 1 ? 'an Identity' : `${chain.length} Identity nodes`})` : '';
      if (source.isConstant) {
        // With running statistics nothing updates them, so sharing one tensor between statistics is harmless;
        // sharing it with anything trainable (or, with batch statistics, with anything at all) is not.
        const readers = otherReaders(source, chain, node, index).filter((r) => batchStatistics || !r.statisticSlot).map((r) => r.text);
        if (readers.length) {
          problems.push({
            reason: `BatchNormalization '${node.name}': its ${what} is the initializer '${source.name}'${via}, which ${readers.join(', ')} also read${readers.length === 1 ? 's' : ''}; training would move the statistic with that tensor and the trained model would infer wrongly`,
            location, source: '@modelpass/train', code: 'train/tied-batch-norm-statistics', hint: HINT,
          });
        } else if (batchStatistics && chain.length) {
          problems.push({
            reason: `BatchNormalization '${node.name}': its ${what} '${statistic.name}' is an Identity of the initializer '${source.name}', so training with batch statistics could not write its updates back`,
            location, source: '@modelpass/train', code: 'train/tied-batch-norm-statistics', hint: HINT,
          });
        }
      } else if (batchStatistics) {
        const origin = source.isGraphInput ? `the graph input '${source.name}'` : source.producer ? `computed by ${source.producer.op.replace(/^onnx\./, '')} '${source.producer.name}'` : `'${source.name}'`;
        problems.push({
          reason: `BatchNormalization '${node.name}': its ${what} '${statistic.name}' is ${origin}${via}, not an initializer, so training with batch statistics could not update it`,
          location, source: '@modelpass/train', code: 'train/tied-batch-norm-statistics',
          hint: `${HINT}; or train with batch-norm=running-statistics`,
        });
      }
    }
  }
  if (problems.length) throw new ModelpassError(problems);
}
