/**
 * Typed pass options: each has a kind, a default, constraints and help text. Pipeline text spells
 * them kebab-case (`max-size=1024`), TypeScript camelCase (`maxSize`).
 */

export interface OptionBase<T> {
  readonly help?: string;
  readonly default?: T;
}

export interface NumberOption extends OptionBase<number> {
  readonly kind: 'number';
  readonly min?: number;
  readonly max?: number;
  /** Only whole numbers. */
  readonly integer?: boolean;
}

export interface BooleanOption extends OptionBase<boolean> {
  readonly kind: 'boolean';
}

export interface StringOption extends OptionBase<string> {
  readonly kind: 'string';
  /** A regular expression the value must match in full. */
  readonly pattern?: string;
  /**
   * The value names files or folders the pass reads (a dataset, a teacher model) or writes (a report, a checkpoint).
   * A pipeline from someone else (a crash reproducer) may set such an option only when the user allows it: see
   * `fileOptionUses` and `replayReproducer`'s `allowFiles`.
   */
  readonly files?: 'read' | 'write';
}

export interface EnumOption<V extends string = string> extends OptionBase<V> {
  readonly kind: 'enum';
  readonly values: readonly V[];
}

export interface ListOption<T = unknown> extends OptionBase<readonly T[]> {
  readonly kind: 'list';
  readonly element: NumberOption | StringOption | EnumOption | BooleanOption;
}

export type OptionSpec = NumberOption | BooleanOption | StringOption | EnumOption | ListOption;

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The TypeScript type of one option's value. */
export type OptionValue<S extends OptionSpec> = S extends NumberOption
  ? number
  : S extends BooleanOption
    ? boolean
    : S extends EnumOption<infer V>
      ? V
      : S extends StringOption
        ? string
        : S extends ListOption<infer T>
          ? readonly T[]
          : never;

/**
 * Resolved options as the pass sees them: options with a default are always present, options
 * without one may be undefined.
 */
export type OptionValues<O extends OptionSpecs> = {
  readonly [K in keyof O]: O[K] extends { default: unknown } ? OptionValue<O[K]> : OptionValue<O[K]> | undefined;
};

type Init<S> = Omit<S, 'kind'>;

export const option = {
  number<const I extends Init<NumberOption>>(init: I): NumberOption & I {
    return { kind: 'number', ...init } as NumberOption & I;
  },
  integer<const I extends Init<Omit<NumberOption, 'integer'>>>(init: I): NumberOption & I {
    return { kind: 'number', integer: true, ...init } as NumberOption & I;
  },
  boolean<const I extends Init<BooleanOption>>(init: I): BooleanOption & I {
    return { kind: 'boolean', ...init } as BooleanOption & I;
  },
  string<const I extends Init<StringOption>>(init: I): StringOption & I {
    return { kind: 'string', ...init } as StringOption & I;
  },
  enum<const V extends string, const I extends Omit<Init<EnumOption<V>>, 'values'>>(values: readonly V[], init: I): EnumOption<V> & I {
    return { kind: 'enum', values, ...init } as EnumOption<V> & I;
  },
  list<E extends ListOption['element'], const I extends Omit<Init<ListOption>, 'element'>>(
    element: E,
    init: I,
  ): ListOption<OptionValue<E>> & I {
    return { kind: 'list', element, ...init } as unknown as ListOption<OptionValue<E>> & I;
  },
};

/** `maxSize` → `max-size`. */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `max-size` → `maxSize`. */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
