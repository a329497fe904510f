export { distillPass, distillPasses } from './distill-pass.js';
export { prepareFakeQuantStudent, requantizeWeights, type FakeQuantizedWeight } from './fake-quant-student.js';
export { addFeatureProjections, parseFeaturePairs, type FeaturePair, type PlannedFeature } from './feature-matching.js';
export { loadTeacher, withTeacherTargets, type Teacher } from './teacher.js';
