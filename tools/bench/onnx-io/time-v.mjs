/** Wall seconds and peak RSS (MB) from the report `/usr/bin/time -v` writes to stderr. */
export function parseTimeV(stderr) {
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return { seconds: Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]), rssMB: Number(rss[1]) / 1024 };
}
