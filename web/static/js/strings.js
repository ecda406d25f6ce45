// The page's strings in its language, rendered by the server into #strings.
const strings = JSON.parse(document.getElementById("strings").textContent);

export function t(key, values = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}
