const log = document.getElementById("log");

function bubble(text, who) {
  const div = document.createElement("div");
  div.className = "bubble " + who;
  div.textContent = text;
  log.appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

// Encoding and segments come from the server, measured by the same code as the catalog check.
async function showCost(bubbles, texts) {
  const response = await fetch("/simulator/measure", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(texts),
  });
  if (!response.ok) return;
  const costs = await response.json();
  costs.forEach((cost, i) => {
    const line = document.createElement("span");
    line.className = "cost" + (cost.encoding === "UCS-2" ? " dear" : "");
    line.dataset.encoding = cost.encoding;
    line.dataset.segments = cost.segments;
    line.textContent = `${cost.characters} characters \u00b7 ${cost.encoding} \u00b7 ` +
      `${cost.segments} SMS segment${cost.segments === 1 ? "" : "s"}`;
    bubbles[i].appendChild(line);
  });
  log.lastElementChild.scrollIntoView({ block: "end" });
}

function randomSid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "SM" + Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
}

async function send(text) {
  bubble(text || "(empty)", "me");
  const sid = randomSid();  // Twilio's shape: SM and 32 hex digits, SmsSid the same
  const form = new URLSearchParams({
    MessageSid: sid, SmsSid: sid, AccountSid: "AC" + "0".repeat(32), MessagingServiceSid: "",
    From: document.getElementById("from").value, To: "+15550000000", Body: text,
    NumMedia: "0", FromCountry: document.getElementById("country").value,
  });
  const signed = await fetch("/simulator/sign", { method: "POST", body: form });
  const { signature } = await signed.json();
  const response = await fetch("/sms", {
    method: "POST", body: form, headers: { "X-Twilio-Signature": signature },
  });
  if (!response.ok) { bubble("HTTP " + response.status, "note"); return; }
  const xml = new DOMParser().parseFromString(await response.text(), "application/xml");
  const messages = xml.getElementsByTagName("Message");
  if (messages.length === 0) bubble("(no reply)", "note");
  const texts = Array.from(messages, message => message.textContent);
  const bubbles = texts.map(text => bubble(text, "bot"));
  if (texts.length) await showCost(bubbles, texts);
}

document.getElementById("compose").addEventListener("submit", event => {
  event.preventDefault();
  const input = document.getElementById("body");
  send(input.value);
  input.value = "";
  input.focus();
});
for (const chip of document.querySelectorAll(".chips button")) {
  chip.addEventListener("click", () => send(chip.textContent));
}
