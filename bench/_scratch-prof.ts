import { measurePipeline } from './pipeline.ts';

const conv = Number(process.env.CONV ?? 50);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const [r] = await measurePipeline([{ conversations: conv, messagesEach: Number(process.env.EACH ?? 10) }]);
const cpu = process.cpuUsage(cpu0);
const s = [...r!.samples].sort((a, b) => a - b);
const p = (q: number) => s[Math.min(s.length - 1, Math.ceil((q / 100) * s.length) - 1)]!.toFixed(0);
console.log(
  JSON.stringify({
    conv,
    n: s.length,
    p50: p(50),
    p99: p(99),
    wallMs: (performance.now() - t0).toFixed(0),
    cpuMs: ((cpu.user + cpu.system) / 1000).toFixed(0),
    cpuPerMsg: r!.cpuMsPerMessage.toFixed(1),
    levelWall: r!.wallMs.toFixed(0),
    per: r!.perMessage,
  }),
);
