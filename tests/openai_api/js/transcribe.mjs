// The official openai package against /v1, as a customer's Node.js code uses it. Run by
// tests/openai_api/test_sdk_js.py: node transcribe.mjs SERVER PAYING_KEY EMPTY_WALLET_KEY FILE
// prints one JSON object: what each call answered or raised.
import fs from "node:fs";
import OpenAI from "openai";

const [server, payingKey, emptyKey, file] = process.argv.slice(2);
const baseURL = `${server}/v1`;
const client = new OpenAI({ baseURL, apiKey: payingKey, maxRetries: 0 });
const audio = () => fs.createReadStream(file);

async function raised(call) {
  try {
    await call();
    return null;
  } catch (error) {
    return { class: error.constructor.name, status: error.status, code: error.code, param: error.param };
  }
}

const out = {};
out.models = (await client.models.list()).data.map((model) => model.id);
out.json = await client.audio.transcriptions.create({ file: audio(), model: "whisper-1" });
out.verbose = await client.audio.transcriptions.create({
  file: audio(),
  model: "whisper-1",
  response_format: "verbose_json",
  timestamp_granularities: ["word", "segment"],
});
out.events = [];
for await (const event of await client.audio.transcriptions.create({ file: audio(), model: "whisper-1", stream: true })) {
  out.events.push(event);
}

const empty = new OpenAI({ baseURL, apiKey: emptyKey, maxRetries: 0 });
out.errors = {
  bad_key: await raised(() => new OpenAI({ baseURL, apiKey: "sk-not-ours", maxRetries: 0 }).models.list()),
  unknown_model: await raised(() => empty.audio.transcriptions.create({ file: audio(), model: "whisper-9" })),
  missing_model: await raised(() => empty.audio.transcriptions.create({ file: audio(), model: "" })),
  no_money: await raised(() => empty.audio.transcriptions.create({ file: audio(), model: "whisper-1" })),
};
console.log(JSON.stringify(out));
