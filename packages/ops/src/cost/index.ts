export { analyzeCost, type AnalyzeCostOptions, type EmptiedNode, type LayerCost, type ModelCost, type UncountedNode } from './analyze-cost.js';
export { CostRules, createCostRules, elementCountOf, type CostContext, type CostRule, type NodeCost } from './cost-rules.js';
export { registerQuantizedCostRules } from './quantized-cost-rules.js';
