// The /try/ page: an API key, a file upload with its progress, and a live session from the microphone
// (AudioWorklet -> 24 kHz PCM16 -> /v1/realtime with a one-use client secret). No library, no build step.

const $ = (id) => document.getElementById(id);
const RATE = 24000;
const keyInput = $("key");
keyInput.value = sessionStorage.getItem("api-key") || "";

function key() {
  const value = keyInput.value.trim();
  sessionStorage.setItem("api-key", value);
  return value;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${key()}`, ...(options.headers || {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = body.detail || (body.error && body.error.message) || response.statusText;
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

async function showWallet() {
  if (!key()) return;
  try {
    const wallet = await api("/api/wallet/details/");
    $("wallet").textContent = `${wallet.demo_minutes_remaining} demo minutes, ₹${wallet.balance} balance (₹${wallet.available} available)`;
  } catch (error) {
    $("wallet").textContent = error.message;
  }
}
keyInput.addEventListener("change", showWallet);
showWallet();

// --- A file ---------------------------------------------------------------------------------------

function upload(file) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/audio/");
    request.setRequestHeader("Authorization", `Bearer ${key()}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) $("progress").value = (100 * event.loaded) / event.total;
    };
    request.onload = () => {
      const body = JSON.parse(request.responseText || "{}");
      if (request.status === 201) resolve(body);
      else reject(new Error(`${request.status}: ${body.detail || request.statusText}`));
    };
    request.onerror = () => reject(new Error("The upload failed."));
    const form = new FormData();
    form.append("file", file);
    request.send(form);
  });
}

$("upload").addEventListener("click", async () => {
  const file = $("file").files[0];
  if (!file) return;
  $("file-text").textContent = "";
  $("file-status").classList.remove("error");
  try {
    $("file-status").textContent = "Uploading…";
    const audio = await upload(file);
    $("file-status").textContent = `Uploaded: ${audio.duration_seconds} s, ${audio.billable_minutes} billable minutes. Transcribing…`;
    let job = await api("/api/transcriptions/", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ audio_file: audio.id }),
    });
    while (job.status === "pending" || job.status === "processing") {
      await new Promise((done) => setTimeout(done, 1000));
      job = await api(`/api/transcriptions/${job.id}/`);
    }
    $("file-status").textContent = `Transcription ${job.status}.`;
    $("file-text").textContent = job.text || job.error || "";
  } catch (error) {
    $("file-status").textContent = error.message;
    $("file-status").classList.add("error");
  }
  showWallet();
});

// --- Live -----------------------------------------------------------------------------------------

let live = null;

function pcm16Base64(samples, fromRate) {
  // Linear resampling to 24 kHz, then 16-bit little-endian, then base64.
  const length = Math.floor((samples.length * RATE) / fromRate);
  const out = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    const at = (i * fromRate) / RATE;
    const j = Math.floor(at);
    const next = j + 1 < samples.length ? samples[j + 1] : samples[j];
    const value = samples[j] + (next - samples[j]) * (at - j);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(value * 32767)));
  }
  let text = "";
  const bytes = new Uint8Array(out.buffer);
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function say(text, isError = false) {
  $("live-status").textContent = text;
  $("live-status").classList.toggle("error", isError);
}

$("record").addEventListener("click", async () => {
  try {
    $("record").disabled = true;
    $("live-text").textContent = "";
    const secret = await api("/v1/realtime/client_secrets", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: "{}",
    });
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true } });
    const context = new AudioContext();
    await context.audioWorklet.addModule("/try/pcm-worklet.js");
    // Opened last, with its handlers set at once: session.created must not arrive before them.
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/v1/realtime?intent=transcription`, [
      "realtime",
      `openai-insecure-api-key.${secret.value}`,
    ]);
    const source = context.createMediaStreamSource(stream);
    const capture = new AudioWorkletNode(context, "capture");
    let pending = [];
    let pendingLength = 0;
    let ready = false;
    let stopped = false;
    let finishing = null;  // once Stop is pressed: the last commit's item, and what to call when it is transcribed
    const sendPending = () => {
      const block = new Float32Array(pendingLength);
      let offset = 0;
      for (const part of pending) { block.set(part, offset); offset += part.length; }
      pending = [];
      pendingLength = 0;
      socket.send(JSON.stringify({ type: "input_audio_buffer.append", audio: pcm16Base64(block, context.sampleRate) }));
    };
    capture.port.onmessage = (event) => {
      // The worklet may still post a block after the socket began closing (stop, or the server's idle limit).
      if (!ready || socket.readyState !== WebSocket.OPEN) return;
      pending.push(event.data);
      pendingLength += event.data.length;
      if (pendingLength >= context.sampleRate / 10) sendPending();  // about 100 ms an append
    };
    source.connect(capture);
    const lines = new Map();
    const render = () => { $("live-text").textContent = [...lines.values()].join(" "); };
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "session.created") {
        socket.send(JSON.stringify({
          type: "session.update",
          session: { type: "transcription", audio: { input: {
            format: { type: "audio/pcm", rate: RATE },
            turn_detection: { type: "server_vad", silence_duration_ms: 500 },
          } } },
        }));
      } else if (event.type === "session.updated") {
        ready = true;
        say("Listening… speak, then pause.");
      } else if (event.type === "input_audio_buffer.speech_started") {
        say("Hearing you…");
      } else if (event.type === "conversation.item.input_audio_transcription.delta") {
        lines.set(event.item_id, (lines.get(event.item_id) || "") + event.delta);
        render();
      } else if (event.type === "input_audio_buffer.committed") {
        if (finishing) finishing.item = event.item_id;
      } else if (event.type === "conversation.item.input_audio_transcription.completed") {
        lines.set(event.item_id, event.transcript);
        render();
        if (finishing && finishing.item === event.item_id) finishing.done();
        else if (!finishing) say("Listening…");
      } else if (event.type === "conversation.item.input_audio_transcription.failed") {
        if (finishing && finishing.item === event.item_id) finishing.done();
      } else if (event.type === "error") {
        // Stop in a pause leaves under 100 ms to commit: nothing was left unsaid.
        if (finishing && event.error.code === "input_audio_buffer_commit_empty") finishing.done();
        else say(`${event.error.code}: ${event.error.message}`, true);
      }
    };
    socket.onclose = () => {
      stop();
      showWallet();
    };
    // Stop: the microphone goes at once; what it already heard is committed and its text awaited
    // (up to 30 s), so the last words are shown as well as paid for, then the socket closes.
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      $("stop").disabled = true;
      capture.port.onmessage = null;
      source.disconnect();
      stream.getTracks().forEach((track) => track.stop());
      context.close().catch(() => {});
      if (ready && socket.readyState === WebSocket.OPEN) {
        if (pendingLength) sendPending();
        say("Finishing the last words…");
        await new Promise((resolve) => {
          finishing = { item: null, done: resolve };
          socket.onclose = resolve;
          setTimeout(resolve, 30000);
          socket.send(JSON.stringify({ type: "input_audio_buffer.commit" }));
        });
      }
      if (socket.readyState <= WebSocket.OPEN) socket.close();
      $("record").disabled = false;
      live = null;
    };
    live = { stop };
    $("stop").disabled = false;
  } catch (error) {
    say(error.message, true);
    $("record").disabled = false;
  }
});

$("stop").addEventListener("click", async () => {
  if (!live) return;
  await live.stop();
  say("Stopped: the session is transcribed and charged for the audio sent.");
  setTimeout(showWallet, 1500);
});
