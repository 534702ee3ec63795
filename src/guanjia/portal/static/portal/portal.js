/* Owner portal: a few behaviours without any library.
 *
 * - Photos: <input type=file data-photos=9> gets a thumbnail grid. Each chosen picture is drawn on
 *   a canvas at most 1600 px on its long side and re-encoded as JPEG (quality 0.82), which turns it
 *   upright and drops its EXIF (GPS included) before it leaves the phone; the server checks and
 *   re-encodes again. The input's files are replaced through DataTransfer, so the form posts normally.
 * - The sign-in page's "send again" countdown, and the stars' words.
 * - Forms that ask before they are sent (data-ask).
 */
(function () {
  "use strict";
  var EDGE = 1600, QUALITY = 0.82;

  function loadImage(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" }).catch(function () { return viaElement(file); });
    }
    return viaElement(file);
  }

  function viaElement(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file), img = new Image();
      img.onload = function () { resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      img.src = url;
    });
  }

  function shrink(file) {
    return loadImage(file).then(function (img) {
      var w = img.width, h = img.height, scale = Math.min(1, EDGE / Math.max(w, h));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(h * scale));
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      if (img.close) img.close();
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) {
          if (!blob) { reject(new Error("encode failed")); return; }
          var name = (file.name || "photo").replace(/\.[^.]*$/, "") + ".jpg";
          resolve(new File([blob], name, { type: "image/jpeg", lastModified: Date.now() }));
        }, "image/jpeg", QUALITY);
      });
    });
  }

  function setupPhotos(input) {
    var max = parseInt(input.getAttribute("data-photos"), 10) || 9;
    var kept = [];
    var grid = document.createElement("div");
    grid.className = "photos";
    var note = document.createElement("div");
    note.className = "help";
    input.classList.add("file-input");
    input.parentNode.insertBefore(grid, input.nextSibling);
    grid.parentNode.insertBefore(note, grid.nextSibling);
    var form = input.form, busy = 0;
    var submit = form && form.querySelector("[type=submit]");

    function sync() {
      if (window.DataTransfer) {
        var dt = new DataTransfer();
        kept.forEach(function (f) { dt.items.add(f); });
        input.files = dt.files;
      }
      render();
    }

    function render() {
      grid.innerHTML = "";
      kept.forEach(function (file, i) {
        var cell = document.createElement("div");
        cell.className = "ph";
        var img = document.createElement("img");
        img.alt = "";
        img.src = URL.createObjectURL(file);
        var rm = document.createElement("button");
        rm.type = "button";
        rm.className = "rm";
        rm.setAttribute("aria-label", input.getAttribute("data-remove-label") || "×");
        rm.textContent = "×";
        rm.onclick = function () { kept.splice(i, 1); sync(); };
        cell.appendChild(img);
        cell.appendChild(rm);
        grid.appendChild(cell);
      });
      if (kept.length < max) {
        var add = document.createElement("label");
        add.className = "ph add";
        add.htmlFor = input.id;
        add.innerHTML = "<b>+</b>";
        var words = document.createElement("span");
        words.textContent = input.getAttribute("data-add-label") || "";
        add.appendChild(words);
        grid.appendChild(add);
      }
      note.textContent = (input.getAttribute("data-count-label") || "{count} / {max}").replace("{count}", kept.length).replace("{max}", max);
      if (submit) submit.disabled = busy > 0;
    }

    input.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(input.files || []);
      var room = max - kept.length;
      if (chosen.length > room) {
        alert((input.getAttribute("data-too-many") || "").replace("{max}", max));
        chosen = chosen.slice(0, Math.max(room, 0));
      }
      busy += 1;
      render();
      Promise.all(chosen.map(function (file) {
        // Not a picture the browser can draw: send it as it is, the server answers with a clear message.
        return shrink(file).catch(function () { return file; });
      })).then(function (files) {
        kept = kept.concat(files);
        busy -= 1;
        sync();
      });
    });
    render();
  }

  function setupCountdown(el) {
    var left = parseInt(el.getAttribute("data-countdown"), 10) || 60;
    var label = el.textContent;
    el.disabled = true;
    var timer = setInterval(function () {
      left -= 1;
      if (left <= 0) { clearInterval(timer); el.disabled = false; el.textContent = label; return; }
      el.textContent = (el.getAttribute("data-wait-label") || "{n}").replace("{n}", left);
    }, 1000);
    el.textContent = (el.getAttribute("data-wait-label") || "{n}").replace("{n}", left);
  }

  function setupStars(box) {
    var out = document.getElementById(box.getAttribute("data-words-for"));
    var words = (box.getAttribute("data-words") || "").split("|");
    box.addEventListener("change", function (e) {
      if (out && e.target.value) out.textContent = words[parseInt(e.target.value, 10) - 1] || "";
    });
  }

  // <form data-ask="question">: asks before submitting (the page's security policy allows no inline
  // handlers). Captured, so a declined form never reaches the form's own listeners (data-once).
  document.addEventListener("submit", function (e) {
    var form = e.target, ask = form.getAttribute && form.getAttribute("data-ask");
    if (ask && !window.confirm(ask)) { e.preventDefault(); e.stopPropagation(); }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-photos]"), setupPhotos);
    Array.prototype.forEach.call(document.querySelectorAll("[data-countdown]"), setupCountdown);
    Array.prototype.forEach.call(document.querySelectorAll(".stars[data-words]"), setupStars);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-once]"), function (form) {
      form.addEventListener("submit", function () {
        var b = form.querySelector("[type=submit]");
        if (b) setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
})();
