// @modelpass/web — the browser page (in progress: see README).
export {};
