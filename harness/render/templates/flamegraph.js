// Click a frame to zoom to it (its callers stay, faded, spanning the width); "Reset zoom"
// undoes. @W@, @PAD@ and @CW@ are filled in by harness/render/flamegraph.py.
(function () {
  var W = @W@, PAD = @PAD@, CW = @CW@;
  var frames = Array.prototype.slice.call(document.querySelectorAll("g.f"));
  frames.forEach(function (g) {
    var r = g.querySelector("rect");
    g._x = +r.getAttribute("x"); g._w = +r.getAttribute("width"); g._y = +r.getAttribute("y");
    g._name = g.getAttribute("data-name");
  });
  function label(name, w) {
    var n = Math.floor((w - 6) / CW);
    if (n < 3) return "";
    return name.length <= n ? name : name.slice(0, n - 2) + "..";
  }
  function place(g, x, w, show, faded) {
    g.style.display = show ? "" : "none";
    if (!show) return;
    var r = g.querySelector("rect"), t = g.querySelector("text");
    r.setAttribute("x", x.toFixed(1)); r.setAttribute("width", w.toFixed(1));
    t.setAttribute("x", (x + 3).toFixed(1)); t.textContent = label(g._name, w);
    g.style.opacity = faded ? "0.6" : "";
  }
  function zoom(target) {
    var tx = target._x, tw = target._w, ty = target._y, k = W / tw, eps = 0.05;
    frames.forEach(function (g) {
      if (g._y > ty) {
        place(g, PAD, W, g._x <= tx + eps && g._x + g._w >= tx + tw - eps, true);
      } else {
        var inside = g._x >= tx - eps && g._x + g._w <= tx + tw + eps;
        place(g, PAD + (g._x - tx) * k, g._w * k, inside, false);
      }
    });
  }
  function frameOf(e) { return e.target.closest ? e.target.closest("g.f") : null; }
  var holder = document.getElementById("frames"), details = document.getElementById("details");
  holder.addEventListener("click", function (e) { var g = frameOf(e); if (g) zoom(g); });
  holder.addEventListener("mouseover", function (e) {
    var g = frameOf(e); if (g) details.textContent = g.querySelector("title").textContent;
  });
  var root = document.getElementById("root"), reset = document.getElementById("reset");
  reset.addEventListener("click", function () { if (root) zoom(root); });
})();
