// The page side of autograd_mini.explore: sliders and number boxes that send the inputs to
// the kernel, and a picture, tables and expansions that the kernel sends back. No build
// step, no dependencies: anywidget loads this module as it is.

const HIGHLIGHT = "#ffd54f";   // the clicked node
const READER = "#ffe9a8";      // the ops that read it
const STEP = "#ff9f40";        // the node the backward step is at
const DEBOUNCE_MS = 60;

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return String(x);
  return Number(x.toPrecision(6)).toString();
}

function render({ model, el: root }) {
  root.classList.add("autograd-mini-explore");
  const style = el("style");
  style.textContent = `
    .autograd-mini-explore { font-family: Helvetica, Arial, sans-serif; font-size: 13px; }
    .autograd-mini-explore .inputs { display: grid; grid-template-columns: auto 1fr auto;
      gap: 0.3em 0.8em; align-items: center; max-width: 36em; }
    .autograd-mini-explore .inputs input[type=number] { width: 7em; }
    .autograd-mini-explore .row { display: flex; gap: 0.8em; align-items: center;
      margin: 0.5em 0; flex-wrap: wrap; }
    .autograd-mini-explore .error { color: #b00020; white-space: pre-wrap; }
    .autograd-mini-explore .expansion { font-family: monospace; white-space: pre-wrap;
      background: #f6f6f6; padding: 0.4em 0.6em; min-height: 2.6em; }
    .autograd-mini-explore .graph svg, .autograd-mini-explore .diagram svg {
      max-width: 100%; height: auto; }
    .autograd-mini-explore .graph g.node { cursor: pointer; }
    .autograd-mini-explore .tables { display: flex; flex-wrap: wrap; gap: 0 2.5em;
      align-items: flex-start; }`;
  root.appendChild(style);

  // -- the inputs ------------------------------------------------------------------------
  const inputs = el("div", { class: "inputs" });
  root.appendChild(inputs);
  const boxes = {};
  let timer = null;
  function send(now) {
    const values = {};
    for (const [name, b] of Object.entries(boxes)) values[name] = Number(b.number.value);
    clearTimeout(timer);
    const go = () => { model.set("values", values); model.save_changes(); };
    if (now) go(); else timer = setTimeout(go, DEBOUNCE_MS);
  }
  for (const spec of model.get("inputs")) {
    const label = el("label", {}, spec.name);
    const slider = el("input", { type: "range", min: spec.lo, max: spec.hi, step: spec.step,
                                 "data-input": spec.name });
    const number = el("input", { type: "number", min: spec.lo, max: spec.hi, step: spec.step,
                                 "data-input": spec.name });
    slider.addEventListener("input", () => { number.value = slider.value; send(false); });
    slider.addEventListener("change", () => send(true));
    number.addEventListener("change", () => { slider.value = number.value; send(true); });
    inputs.append(label, slider, number);
    boxes[spec.name] = { slider, number };
  }

  const controls = el("div", { class: "row" });
  const wrt = el("select", { class: "wrt" });
  for (const spec of model.get("inputs")) wrt.appendChild(el("option", { value: spec.name }, spec.name));
  wrt.addEventListener("change", () => { model.set("wrt", wrt.value); model.save_changes(); });
  const back = el("button", { class: "back" }, "◀ step");
  const play = el("button", { class: "play" }, "▶ play");
  const next = el("button", { class: "next" }, "step ▶");
  const done = el("button", { class: "done" }, "done");
  const where = el("span", { class: "where" });
  controls.append(el("span", {}, "tangent for"), wrt, back, play, next, done, where);
  root.appendChild(controls);

  const result = el("div", { class: "row result" });
  const error = el("div", { class: "error" });
  const diagram = el("div", { class: "diagram" });
  const graph = el("div", { class: "graph" });
  const expansion = el("div", { class: "expansion" },
                       "Click a node for its chain rule, with the current numbers.");
  const tables = el("div", { class: "tables" });
  root.append(result, error, diagram, graph, expansion, tables);

  // -- the picture -----------------------------------------------------------------------
  let nodes = {};   // DOT name -> { g, box, grad, final, fill }
  let step = -1;    // -1: the finished pass; else the backward step shown
  let playing = null;

  function index() {
    nodes = {};
    graph.querySelectorAll("g.node").forEach((g) => {
      const title = g.querySelector("title");
      if (!title) return;
      const texts = Array.from(g.querySelectorAll("text"));
      const box = g.querySelector("path, polygon, ellipse");
      nodes[title.textContent] = { g, box, texts, grad: texts[texts.length - 1],
        final: texts.length ? texts[texts.length - 1].textContent : "",
        fill: box ? box.getAttribute("fill") : null };
    });
  }

  function paint() {
    const x = model.get("expansion") || {};
    const chosen = x.node ? [x.node, x.node + "_op"] : [];
    const readers = (x.consumers || []).flatMap((c) => [c, c + "_op"]);
    const data = model.get("steps") || { frames: [], nodes: [] };
    const frames = data.frames || [];
    const text = {}, partial = {};
    if (step >= 0) {
      for (let i = 0; i <= step && i < frames.length; i++) {
        for (const [name, t, p] of frames[i].set) { text[name] = t; partial[name] = p; }
      }
    }
    for (const [name, n] of Object.entries(nodes)) {
      if (!n.box) continue;
      let fill = n.fill;
      if (readers.includes(name)) fill = READER;
      if (chosen.includes(name)) fill = HIGHLIGHT;
      if (step >= 0 && frames[step] && frames[step].node === name) fill = STEP;
      n.box.setAttribute("fill", fill || "none");
      if ((data.nodes || []).includes(name) && n.grad) {
        n.grad.textContent = step < 0 ? n.final : (name in text ? text[name] : data.blank);
        n.texts.forEach((t) => partial[name] ? t.setAttribute("fill", "#8a8a8a")
                                              : t.removeAttribute("fill"));
      }
    }
    where.textContent = step < 0 ? "" : `backward step ${step + 1} of ${frames.length}` +
      (frames[step] ? `: ${frames[step].node}` : "");
  }

  function goTo(k) {
    const frames = (model.get("steps") || {}).frames || [];
    step = k < 0 || k >= frames.length ? -1 : k;
    paint();
  }
  back.addEventListener("click", () => goTo(step < 0 ? ((model.get("steps").frames || []).length - 1) : step - 1));
  next.addEventListener("click", () => goTo(step + 1));
  done.addEventListener("click", () => { stop(); goTo(-1); });
  function stop() { if (playing) { clearInterval(playing); playing = null; play.textContent = "▶ play"; } }
  play.addEventListener("click", () => {
    if (playing) { stop(); return; }
    if (step < 0) goTo(0);
    play.textContent = "❚❚ pause";
    playing = setInterval(() => {
      const frames = (model.get("steps") || {}).frames || [];
      if (step >= frames.length - 1) { stop(); return; }
      goTo(step + 1);
    }, 700);
  });

  graph.addEventListener("click", (event) => {
    const g = event.target.closest("g.node");
    if (!g) return;
    const title = g.querySelector("title");
    if (!title) return;
    model.set("selected", title.textContent.replace(/_op$/, ""));
    model.save_changes();
  });

  // -- what the kernel sends ---------------------------------------------------------------
  function showValues() {
    const values = model.get("values");
    for (const [name, b] of Object.entries(boxes)) {
      if (name in values && document.activeElement !== b.slider) b.slider.value = values[name];
      if (name in values && document.activeElement !== b.number) b.number.value = values[name];
    }
    wrt.value = model.get("wrt");
  }
  function showResult() {
    const g = model.get("gradient") || {};
    const parts = Object.entries(g).map(([n, v]) => `∂f/∂${n} = ${fmt(v)}`);
    result.textContent = `f = ${fmt(model.get("value"))};  ` + parts.join(",  ");
    result.setAttribute("data-gradient", JSON.stringify(g));
  }
  function showGraph() { graph.innerHTML = model.get("svg"); index(); stop(); step = -1; paint(); }
  function showExpansion() {
    const x = model.get("expansion") || {};
    expansion.textContent = x.node ? `${x.adjoint}\n${x.tangent}`
      : "Click a node for its chain rule, with the current numbers.";
    paint();
  }
  showValues(); showResult(); showGraph(); showExpansion();
  tables.innerHTML = model.get("tables");
  error.textContent = model.get("error");
  model.on("change:values", showValues);
  model.on("change:wrt", showValues);
  model.on("change:gradient", showResult);
  model.on("change:value", showResult);
  model.on("change:svg", showGraph);
  model.on("change:steps", () => { stop(); step = -1; paint(); });
  model.on("change:expansion", showExpansion);
  model.on("change:tables", () => { tables.innerHTML = model.get("tables"); });
  model.on("change:error", () => { error.textContent = model.get("error"); });
  diagram.innerHTML = model.get("diagram") || "";
  model.on("change:diagram", () => { diagram.innerHTML = model.get("diagram") || ""; });
  return () => { stop(); clearTimeout(timer); };
}

export default { render };
