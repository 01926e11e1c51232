(function () {
  "use strict";
  var box = document.querySelector("[data-js-only]");
  if (!box) { return; }
  box.hidden = false;
  var input = document.getElementById("filter");
  var items = document.querySelectorAll("[data-filter]");
  input.addEventListener("input", function () {
    var q = input.value.trim().toLowerCase();
    for (var i = 0; i < items.length; i++) {
      var hit = !q || items[i].textContent.toLowerCase().indexOf(q) !== -1;
      items[i].classList.toggle("hidden-by-filter", !hit);
    }
  });
  var buttons = document.querySelectorAll("[data-expand]");
  for (var b = 0; b < buttons.length; b++) {
    buttons[b].addEventListener("click", function (ev) {
      var open = ev.currentTarget.getAttribute("data-expand") === "open";
      var all = document.querySelectorAll("details");
      for (var j = 0; j < all.length; j++) { all[j].open = open; }
    });
  }
  var notes = document.querySelectorAll(".js-off-note");
  for (var n = 0; n < notes.length; n++) { notes[n].hidden = true; }
  var shows = document.querySelectorAll("[data-show-preview]");
  for (var s = 0; s < shows.length; s++) {
    shows[s].hidden = false;
    shows[s].addEventListener("click", function (ev) {
      var button = ev.currentTarget;
      var template = button.parentNode.querySelector("template");
      button.parentNode.replaceChild(template.content.cloneNode(true), button);
    });
  }
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = [];
    var all = document.querySelectorAll("details:not([open])");
    for (var k = 0; k < all.length; k++) { closed.push(all[k]); all[k].open = true; }
  });
  window.addEventListener("afterprint", function () {
    for (var k = 0; k < closed.length; k++) { closed[k].open = false; }
  });
}());
