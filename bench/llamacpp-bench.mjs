// llama.cpp side of `vladapt bench quant`: runs a GGUF (e.g. one written by `vladapt bench gguf`) through the
// prebuilt CPU backend of the npm package node-llama-cpp, and prints load time, prefill tokens/s for each
// prompt length and decode tokens/s, medians over rounds. Nothing of llama.cpp is in this repository:
// install node-llama-cpp outside it, e.g.
//   mkdir -p /work/big/llamacpp && cd /work/big/llamacpp && npm init -y && \
//     NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install node-llama-cpp@3.22.1
// then
//   node bench/llamacpp-bench.mjs MODEL.gguf --modules /work/big/llamacpp/node_modules [--threads 2]
//        [--prefill 128,512] [--decode 64] [--rounds 3]
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { statSync } from "node:fs";
import os from "node:os";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const model = args[0];
if (!model || model.startsWith("--")) {
  console.error("usage: node bench/llamacpp-bench.mjs MODEL.gguf --modules DIR/node_modules [--threads 2] [--prefill 128,512] [--decode 64] [--rounds 3]");
  process.exit(2);
}
const modules = opt("--modules", process.env.LLAMACPP_MODULES ?? "/work/big/llamacpp/node_modules");
const threads = Number(opt("--threads", "2"));
const prefill = opt("--prefill", "128,512").split(",").map(Number);
const decode = Number(opt("--decode", "64"));
const rounds = Number(opt("--rounds", "3"));

const { getLlama } = await import(pathToFileURL(resolve(modules, "node-llama-cpp/dist/index.js")).href);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now() / 1000;

const llama = await getLlama({ gpu: false, build: "never", maxThreads: threads, logLevel: "error" });
console.log(`llama.cpp through node-llama-cpp ${llama.buildType} build; CPU: ${os.cpus()[0].model}`);
console.log(`backend features: ${llama.systemInfo.trim()}`);
console.log(`model: ${model} (${(statSync(model).size / 1e9).toFixed(2)} GB), threads ${threads}, medians over ${rounds} rounds`);

// load: read the whole file (no mmap), so that the time covers the weights, as VLAdapt's load does
let t0 = now();
const m = await llama.loadModel({ modelPath: model, gpuLayers: 0, useMmap: false });
const loadS = now() - t0;
const maxPrompt = Math.max(...prefill);
const ctx = await m.createContext({ contextSize: maxPrompt + decode + 16, batchSize: maxPrompt, threads });
const seq = ctx.getSequence();
const vocab = 32000; // RandomLlamaGguf: 3 control pieces, 256 byte pieces, then placeholders
let seed = 1;
const randomTokens = (n) => Array.from({ length: n }, () => 259 + ((seed = (seed * 1103515245 + 12345) % 2147483648) % (vocab - 259)));

const prefillRates = {};
for (const n of prefill) prefillRates[n] = [];
const decodeRates = [];
for (let r = 0; r < rounds; r++) {
  for (const n of prefill) {
    await seq.clearHistory();
    t0 = now();
    await seq.evaluateWithoutGeneratingNewTokens(randomTokens(n));
    prefillRates[n].push(n / (now() - t0));
  }
  // decode: a short prompt, then `decode` greedy tokens one at a time
  await seq.clearHistory();
  await seq.evaluateWithoutGeneratingNewTokens(randomTokens(8));
  let count = 0;
  t0 = now();
  for await (const _ of seq.evaluate(randomTokens(1), { temperature: 0 })) {
    if (++count >= decode) break;
  }
  decodeRates.push(count / (now() - t0));
}
console.log(`load (useMmap: false): ${loadS.toFixed(1)} s`);
for (const n of prefill) console.log(`prefill ${n} tokens: ${median(prefillRates[n]).toFixed(1)} tokens/s`);
console.log(`decode (${decode} tokens after an 8-token prompt): ${median(decodeRates).toFixed(2)} tokens/s`);
await ctx.dispose();
await m.dispose();
