const a = new Float32Array(1<<22).map(()=>Math.random());
let t0 = performance.now(); let s = 0;
for (let r = 0; r < 5; r++) for (let i = 0; i < a.length; i++) s += a[i]!;
console.log('sum 4M x5', (performance.now()-t0).toFixed(1), 'ms', s > 0);
