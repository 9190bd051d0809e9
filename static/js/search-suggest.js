/* Autocomplete for the search box (progressive enhancement: the form works without it).
   Fetches /search/suggest?q= and shows villages and product titles as an ARIA listbox. */
(function () {
  "use strict";
  var input = document.getElementById("q");
  if (!input || !window.fetch || !input.form) { return; }
  var form = input.form;
  var list = document.createElement("ul");
  var timer = null;
  var active = -1;
  var lastQuery = "";
  var controller = null;
  list.id = "q-suggestions";
  list.className = "suggest-list";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  form.appendChild(list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  function close() {
    list.hidden = true;
    list.textContent = "";
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    var items = list.querySelectorAll("li");
    if (!items.length) { return; }
    active = (index + items.length) % items.length;
    for (var i = 0; i < items.length; i++) {
      items[i].setAttribute("aria-selected", i === active ? "true" : "false");
    }
    input.setAttribute("aria-activedescendant", items[active].id);
  }

  function render(suggestions) {
    list.textContent = "";
    active = -1;
    if (!suggestions.length) { close(); return; }
    suggestions.forEach(function (s, i) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      var kind = document.createElement("span");
      li.id = "q-suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      a.href = s.url;
      a.textContent = s.label;
      kind.className = "kind";
      kind.textContent = s.type === "village" ? (document.documentElement.lang === "en" ? "village" : "làng nghề") : "";
      a.appendChild(kind);
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function load() {
    var q = input.value.trim();
    if (q.length < 2) { close(); return; }
    if (q === lastQuery) { return; }
    lastQuery = q;
    if (controller) { controller.abort(); }
    controller = window.AbortController ? new AbortController() : null;
    fetch("/search/suggest?q=" + encodeURIComponent(q), {
      headers: { "Accept": "application/json" },
      signal: controller ? controller.signal : undefined
    }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (data) { if (input.value.trim() === q) { render(data.suggestions || []); } })
      .catch(function () { /* offline or aborted: the plain form still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(load, 150);
  });
  input.addEventListener("keydown", function (e) {
    if (list.hidden) { return; }
    if (e.key === "ArrowDown") { e.preventDefault(); highlight(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
    else if (e.key === "Escape") { close(); }
    else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      window.location.href = list.querySelectorAll("li a")[active].href;
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 200); });
})();
