/** Report parts every command shares: input entries and model summaries with per-layer FLOPs. */
import { statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Model } from '@modelpass/ir';
import { analyzeCost } from '@modelpass/ops';
import { describeModel, layerTable, type LayerRecord, type ModelSummary, type ReportInput } from '@modelpass/report';

function fileBytes(path: string): number | undefined {
  try {
    const stat = statSync(path);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}

export function reportInput(role: string, path: string, format?: string): ReportInput {
  const bytes = fileBytes(path);
  const fromExtension = extname(path).slice(1).toLowerCase();
  const kind = format ?? (fromExtension || undefined);
  return { role, path, ...(kind ? { format: kind } : {}), ...(bytes !== undefined ? { bytes } : {}) };
}

export function modelSummary(model: Model, path?: string): ModelSummary {
  const bytes = path !== undefined ? fileBytes(path) : undefined;
  return describeModel(model, { ...(path !== undefined ? { path } : {}), ...(bytes !== undefined ? { fileBytes: bytes } : {}) });
}

/** Per-layer rows of `after` (with FLOPs per node), compared with `before` by node name. */
export function layersOf(after: Model, before?: Model): LayerRecord[] {
  let flops: Map<string, number> | undefined;
  try {
    flops = new Map(analyzeCost(after).layers.map((layer) => [layer.node, layer.flops]));
  } catch {
    flops = undefined;
  }
  return layerTable(after, { ...(before ? { before } : {}), ...(flops ? { flops } : {}) });
}
