/**
 * Forward arguments typed as containers (`images: List[Tensor]`, `targets: Optional[List[Dict[str, Tensor]]] = None`, as
 * torchvision's detection models take): a graph input is one tensor, so such an argument cannot become one. An Optional
 * container left at its default None is read as None (forward(x) without it); any other is refused at forward's
 * signature, naming the argument and its type. QA s20: a scripted ssdlite320 read `images` as one tensor and stopped
 * deep inside at 'indexing a tensor with tensor'.
 */
import type { Expr } from '../script/ast.js';

/** The annotation as TorchScript spells it (`List[Tensor]`, `Dict[str, Tensor]`). */
export function annotationText(annotation: Expr): string {
  if (annotation.kind === 'name') return annotation.id;
  if (annotation.kind === 'attribute') return `${annotationText(annotation.object)}.${annotation.name}`;
  if (annotation.kind === 'tuple') return annotation.items.map(annotationText).join(', ');
  if (annotation.kind === 'subscript') return `${annotationText(annotation.object)}[${annotationText(annotation.index)}]`;
  return annotation.kind;
}

/** Whether an annotation is a subscripted type other than `Optional[Tensor]` (a list, tuple, dict, or an Optional of one). */
export function isContainerAnnotation(annotation: Expr | null | undefined): annotation is Expr & { kind: 'subscript' } {
  if (annotation?.kind !== 'subscript') return false;
  const isOptional = annotation.object.kind === 'name' && annotation.object.id === 'Optional';
  return !(isOptional && annotation.index.kind === 'name' && annotation.index.id === 'Tensor');
}

/** Whether `annotation` is `Optional[…]` and the default is `None`. */
export function isOptionalLeftNone(annotation: Expr & { kind: 'subscript' }, defaultValue: Expr | null | undefined): boolean {
  return annotation.object.kind === 'name' && annotation.object.id === 'Optional' && defaultValue?.kind === 'name' && defaultValue.id === 'None';
}

export const CONTAINER_ARGUMENT_HINT = 'wrap the model so that forward takes tensors, e.g. class Wrapped(torch.nn.Module): def forward(self, image): return self.model([image]) — then torch.jit.script(Wrapped(model)).save(PATH)';
