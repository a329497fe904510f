/** Limits on a zip file, checked before anything is inflated or allocated. */
export interface ZipLimits {
  /** Most entries (default 100,000). */
  maxEntries?: number;
  /** Most bytes one entry may inflate to (default 8 GiB; a deflated entry is stopped while inflating). */
  maxEntryBytes?: number;
  /** Most bytes all entries together may hold (default 64 GiB). */
  maxTotalBytes?: number;
  /** Largest inflated/deflated ratio of a deflated entry (default 200; torch deflates only source text). */
  maxCompressionRatio?: number;
}

export const DEFAULT_ZIP_LIMITS: Required<ZipLimits> = Object.freeze({
  maxEntries: 100_000,
  maxEntryBytes: 8 * 2 ** 30,
  maxTotalBytes: 64 * 2 ** 30,
  maxCompressionRatio: 200,
});
