// Live preview: the server measures (same code as `smsbot catalog check`); this only draws.
(function () {
  function draw(box, result) {
    const stats = box.querySelector("[data-stats]");
    const phone = box.querySelector("[data-bubbles]");
    phone.replaceChildren();
    if (result.error) { stats.textContent = result.error; return; }
    const worst = result.messages.reduce((a, m) => (!a || m.segments > a.segments ? m : a), null);
    stats.replaceChildren();
    if (worst) {
      const line = document.createElement("span");
      line.dataset.segments = worst.segments;
      line.className = worst.over ? "over" : "";
      line.textContent = `${worst.characters} characters · ${worst.encoding} · ${worst.segments} SMS segment${worst.segments === 1 ? "" : "s"}`;
      stats.append(line);
    }
    const reading = document.createElement("div");
    reading.textContent = `Reading: ${result.reading}` + (result.ucs2.length ? ` · UCS-2 because of: ${result.ucs2.join(" ")}` : "");
    stats.append(reading);
    for (const message of result.messages) {
      const bubble = document.createElement("div");
      bubble.className = "bubble";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = `${message.name} - ${message.characters} chars, ${message.segments} SMS`;
      bubble.append(name);
      for (const [text, flagged] of message.runs) {
        const piece = document.createElement(flagged ? "mark" : "span");
        if (flagged) piece.className = "ucs2";
        piece.textContent = text;
        bubble.append(piece);
      }
      phone.append(bubble);
    }
  }
  for (const area of document.querySelectorAll("textarea[data-preview]")) {
    const box = area.closest(".side");
    let timer = null;
    let asked = 0;  // answers can arrive out of order: draw only the newest question's
    const update = async () => {
      const question = ++asked;
      const response = await fetch("/staff/api/preview", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": window.CSRF },
        body: JSON.stringify({ key: area.dataset.key, language: area.dataset.language, text: area.value }),
      });
      const result = response.ok ? await response.json() : null;
      if (result && question === asked) draw(box, result);
    };
    area.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 120); });
    update();
  }
})();
