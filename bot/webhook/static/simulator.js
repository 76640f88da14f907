const log = document.getElementById("log");

function bubble(text, who) {
  const div = document.createElement("div");
  div.className = "bubble " + who;
  div.textContent = text;
  log.appendChild(div);
  log.scrollTop = log.scrollHeight;
}

function randomSid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "SM" + Array.from(bytes, b => b.toString(16).padStart(2, "0")).join("");
}

async function send(text) {
  bubble(text || "(empty)", "me");
  const sid = randomSid();
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
  for (const message of messages) bubble(message.textContent, "bot");
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
