// ticketpager: the copy button and the incident list's auto-refresh. Nothing else.
"use strict";
document.addEventListener("click", function (e) {
  var b = e.target.closest("button[data-copy]");
  if (!b) return;
  var input = document.getElementById(b.getAttribute("data-copy"));
  if (!input) return;
  input.select();
  var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 2000); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});
(function () {
  var secs = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (!secs) return;
  var last = Date.now();
  ["keydown", "pointerdown", "input"].forEach(function (t) {
    document.addEventListener(t, function () { last = Date.now(); }, true);
  });
  setInterval(function () {
    // Do not pull the page from under someone using it: skip while a control
    // has focus, a form is being filled in, or a key was pressed recently.
    var a = document.activeElement;
    var busy = a && a !== document.body && a.id !== "main";
    if (document.hidden || busy || Date.now() - last < secs * 1000) return;
    window.location.reload();
  }, secs * 1000);
})();
