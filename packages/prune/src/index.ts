// @modelpass/prune — pruning passes. The passes are added by their own modules below.
export const prunePasses = [] as const;
