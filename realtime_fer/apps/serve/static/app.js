// realtime-fer live page: camera frames -> WS /v1/stream -> boxes, labels and per-class bars on a canvas.
// No framework, no build step, nothing fetched from elsewhere. window.fer.state is what the page knows
// (the browser test reads it).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const video = $("video"), canvas = $("overlay"), ctx = canvas.getContext("2d"), stage = $("stage");
  const token = new URLSearchParams(location.search).get("token");
  const SEND_FPS = 15, MAX_IN_FLIGHT = 2, SEND_WIDTH = 640;
  const COLORS = ["#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6"];
  const state = { connected: false, hello: null, sent: 0, replies: 0, errors: 0, dropped: 0, rttMs: null,
                  fps: null, serverMs: null, faces: [], lastReply: null, lastError: null, mode: "idle",
                  drawn: 0, photo: null };
  window.fer = { state, COLORS };
  let ws = null, stream = null, inFlight = new Map(), replyTimes = [], lastSend = 0, labels = [];
  const grab = document.createElement("canvas"), grabCtx = grab.getContext("2d");
  stage.classList.add("idle");

  function withToken(path) {
    const url = new URL(path, location.href);
    if (token) url.searchParams.set("token", token);
    return url;
  }
  function setStatus(text, ok) {
    $("status").textContent = text;
    $("status").className = ok === undefined ? "" : ok ? "ok" : "bad";
  }
  function color(labelName) {
    const i = labels.indexOf(labelName);
    return COLORS[(i < 0 ? 0 : i) % COLORS.length];
  }

  function connect() {
    const url = withToken("v1/stream");
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {  // the server counts seq from 0 on each connection: so does the page
      state.connected = true;
      state.sent = 0;
      inFlight.clear();
      setStatus("connected", true);
    };
    ws.onclose = (event) => {
      state.connected = false;
      setStatus(`closed (${event.code}${event.reason ? ": " + event.reason : ""})`, false);
      inFlight.clear();
      if (state.mode === "camera" && event.code !== 1008 && event.code !== 1013) setTimeout(connect, 2000);
    };
    ws.onmessage = (event) => onMessage(JSON.parse(event.data));
  }

  function onMessage(msg) {
    const now = performance.now();
    if (msg.type === "hello") { state.hello = msg; labels = msg.labels; return; }
    if (msg.seq !== undefined) {
      const sentAt = inFlight.get(msg.seq);
      for (const seq of [...inFlight.keys()]) if (seq <= msg.seq) inFlight.delete(seq);  // answered or dropped
      if (sentAt !== undefined) state.rttMs = now - sentAt;
    }
    if (msg.type === "error") { state.errors += 1; state.lastError = msg; setStatus(msg.message, false); return; }
    if (msg.type !== "result") return;
    state.replies += 1;
    state.dropped = msg.dropped_total;
    state.serverMs = msg.timings_ms.server;
    state.lastReply = msg;
    replyTimes.push(now);
    while (replyTimes.length && now - replyTimes[0] > 1000) replyTimes.shift();
    state.fps = replyTimes.length > 1 ? (replyTimes.length - 1) * 1000 / (now - replyTimes[0]) : null;
    if (state.mode === "camera") draw(msg.faces, msg.width, msg.height, null);
  }

  function sendLoop() {
    if (state.mode !== "camera") return;
    requestAnimationFrame(sendLoop);
    const now = performance.now();
    if (!ws || ws.readyState !== WebSocket.OPEN || inFlight.size >= MAX_IN_FLIGHT) return;
    if (now - lastSend < 1000 / SEND_FPS || !video.videoWidth) return;
    lastSend = now;
    const scale = Math.min(1, SEND_WIDTH / video.videoWidth);
    grab.width = Math.round(video.videoWidth * scale);
    grab.height = Math.round(video.videoHeight * scale);
    grabCtx.drawImage(video, 0, 0, grab.width, grab.height);
    const seq = state.sent++, socket = ws;
    inFlight.set(seq, now);
    grab.toBlob((blob) => {
      if (socket === ws && socket.readyState === WebSocket.OPEN) socket.send(blob);
      else if (socket === ws) inFlight.delete(seq);
    }, "image/jpeg", 0.8);
  }

  function draw(faces, width, height, image) {
    const shown = image ? { w: image.width, h: image.height } : { w: video.clientWidth, h: video.clientHeight };
    const scale = Math.min(1, 960 / shown.w);
    canvas.width = Math.round(shown.w * (image ? scale : 1));
    canvas.height = Math.round(shown.h * (image ? scale : 1));
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (image) ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
    const sx = canvas.width / width, sy = canvas.height / height;
    ctx.lineWidth = 3;
    ctx.font = "bold 15px system-ui, sans-serif";
    for (const f of faces) {
      const c = color(f.label), x = f.x1 * sx, y = f.y1 * sy, w = (f.x2 - f.x1) * sx, h = (f.y2 - f.y1) * sy;
      ctx.strokeStyle = c;
      ctx.strokeRect(x, y, w, h);
      const tag = `#${f.track_id} ${f.label} ${(f.confidence * 100).toFixed(0)}%`;
      ctx.fillStyle = c;
      ctx.fillRect(x, Math.max(0, y - 20), ctx.measureText(tag).width + 8, 20);
      ctx.fillStyle = "#000";
      ctx.fillText(tag, x + 4, Math.max(15, y - 5));
      const bx = x + w + 110 <= canvas.width ? x + w + 4 : Math.max(0, x - 114);  // per-class bars beside the box
      ctx.font = "10px monospace";
      labels.forEach((name, i) => {
        const p = f["prob_" + name] || 0, by = y + i * 12;
        ctx.fillStyle = "rgba(0,0,0,0.6)";
        ctx.fillRect(bx, by, 110, 11);
        ctx.fillStyle = color(name);
        ctx.fillRect(bx + 24, by + 1, 84 * p, 9);
        ctx.fillStyle = "#fff";
        ctx.fillText(name.slice(0, 3), bx + 2, by + 9);
      });
      ctx.font = "bold 15px system-ui, sans-serif";
    }
    const line = state.mode === "camera"
      ? `${state.fps ? state.fps.toFixed(1) : "-"} fps  rtt ${state.rttMs ? state.rttMs.toFixed(0) : "-"} ms  ` +
        `server ${state.serverMs ? state.serverMs.toFixed(0) : "-"} ms  dropped ${state.dropped}`
      : `photo ${width}x${height}  ${faces.length} faces`;
    ctx.font = "13px monospace";
    ctx.fillStyle = "rgba(0,0,0,0.6)";
    ctx.fillRect(0, 0, ctx.measureText(line).width + 10, 20);
    ctx.fillStyle = "#fff";
    ctx.fillText(line, 5, 14);
    $("stats").textContent = line;
    state.faces = faces;
    state.scale = { x: sx, y: sy };
    state.drawn += 1;
    listFaces(faces);
  }

  function listFaces(faces) {
    const aside = $("faces");
    aside.replaceChildren();
    for (const f of faces) {
      const box = document.createElement("div"), title = document.createElement("h2");
      box.className = "face";
      title.textContent = `#${f.track_id} ${f.label} ${(f.confidence * 100).toFixed(0)}%`;
      title.style.color = color(f.label);
      box.append(title);
      for (const name of labels) {
        const row = document.createElement("div"), bar = document.createElement("span"), fill = document.createElement("i");
        const p = f["prob_" + name] || 0;
        row.className = "bar";
        fill.style.width = `${(100 * p).toFixed(1)}%`;
        fill.style.background = color(name);
        bar.append(fill);
        row.append(Object.assign(document.createElement("span"), { textContent: name }), bar,
                   Object.assign(document.createElement("span"), { textContent: p.toFixed(2) }));
        box.append(row);
      }
      aside.append(box);
    }
  }

  async function startCamera() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (err) {
      setStatus(`camera: ${err.name}: ${err.message}; drop a photo instead`, false);
      return;
    }
    video.srcObject = stream;
    await video.play();
    state.mode = "camera";
    stage.classList.remove("idle", "photo");
    $("hint").textContent = "";
    if (!ws || ws.readyState > WebSocket.OPEN) connect();
    requestAnimationFrame(sendLoop);
  }

  async function analyzePhoto(file) {
    if (!file) return;
    state.mode = "photo";
    stage.classList.remove("idle");
    stage.classList.add("photo");
    $("hint").textContent = "";
    setStatus(`analyzing ${file.name}...`);
    const headers = { "Content-Type": file.type || "application/octet-stream" };
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const response = await fetch(new URL("v1/analyze", location.href), { method: "POST", headers, body: file });
      const body = await response.json();
      if (!response.ok) { setStatus(body.message || `HTTP ${response.status}`, false); return; }
      labels = body.labels;
      state.photo = body;
      draw(body.faces, body.width, body.height, await createImageBitmap(file));
      setStatus(`${file.name}: ${body.faces.length} faces (${body.timings_ms.recognize.toFixed(0)} ms)`, true);
      $("camera").textContent = "Back to camera";
    } catch (err) {
      setStatus(`analyze: ${err}`, false);
    }
  }

  $("camera").addEventListener("click", startCamera);
  $("photo").addEventListener("change", (e) => analyzePhoto(e.target.files[0]));
  window.addEventListener("dragover", (e) => { e.preventDefault(); stage.classList.add("dragging"); });
  window.addEventListener("dragleave", () => stage.classList.remove("dragging"));
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    stage.classList.remove("dragging");
    analyzePhoto(e.dataTransfer.files[0]);
  });
  window.fer.analyzePhoto = analyzePhoto;
})();
