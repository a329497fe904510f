/** A broken round-trip property of an input the parser accepted (always a finding). */
export class PropertyViolation extends Error {
  constructor(property, detail, cause) {
    super(`${property}: ${detail}`, cause !== undefined ? { cause } : undefined);
    this.name = 'PropertyViolation';
    this.property = property;
  }
}

/** Runs a step of a property check; any error in it (a ModelpassError too) breaks the property. */
export function step(property, what, body) {
  try {
    return body();
  } catch (error) {
    throw new PropertyViolation(property, `${what} threw ${error?.name ?? typeof error}: ${String(error?.message ?? error).split('\n')[0]}`, error);
  }
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
