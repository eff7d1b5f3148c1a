// Direct upload to S3 with a progress bar. Progressive enhancement: without this script (or
// without XHR/FormData), the form posts the file to the app, which works just the same.
// On selection: the type and size are checked, a preview shows, and a photo over the size limit
// (a phone's 13 MB JPEG) or with more pixels than the server decodes for its type (a 12 MP WebP,
// or HEIC where the browser can read it) is scaled down in the browser (canvas) before it is
// sent. The server checks everything again, with the same limits.
(function () {
  "use strict";
  var form = document.getElementById("avatar-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !window.fetch) return;
  var input = form.querySelector('input[type="file"]');
  var progress = document.getElementById("avatar-progress");
  var statusBox = document.getElementById("avatar-status-box");
  var statusText = document.getElementById("avatar-status");
  var errorBox = document.getElementById("avatar-error");
  var preview = document.getElementById("avatar-preview");
  var previewImage = document.getElementById("avatar-preview-image");
  var previewNote = document.getElementById("avatar-preview-note");
  var button = document.getElementById("avatar-upload");
  var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
  var maxBytes = Number(form.dataset.maxBytes) || 5 * 1024 * 1024;
  var TYPES = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"];
  var LONGEST_SIDE = 2048; // plenty for a 512-pixel square avatar
  var ready = null; // the file (or the scaled-down copy) to send
  var previewUrl = null;

  function megabytes(bytes) { return (bytes / (1024 * 1024)).toFixed(1) + " MB"; }

  function setBusy(busy) {
    button.disabled = busy;
    button.setAttribute("aria-disabled", String(busy));
    input.disabled = busy;
  }

  function setStatus(text, value) {
    statusBox.hidden = false;
    statusText.textContent = text;
    if (value === null) progress.removeAttribute("value"); // indeterminate: "processing…"
    else progress.value = value;
  }

  function showError(message) {
    statusText.textContent = ""; // "Uploaded 100%. Processing…" must not stay once it failed
    progress.value = 0;
    errorBox.textContent = message;
    errorBox.hidden = false;
    statusBox.hidden = true;
    setBusy(false);
  }

  // Browsers leave the type of some files empty (HEIC on most desktops): go by the name then.
  function typeOf(file) {
    if (file.type) return file.type;
    var name = (file.name || "").toLowerCase();
    if (/\.(heic|heif)$/.test(name)) return "image/heic";
    if (/\.jpe?g$/.test(name)) return "image/jpeg";
    return "";
  }

  function showPreview(blob, note) {
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(blob);
    previewImage.src = previewUrl;
    previewNote.textContent = note;
    preview.hidden = false;
  }

  // A smaller JPEG of the picture: upright (EXIF orientation applied), longest side LONGEST_SIDE,
  // and no more than pixelLimit pixels (when given).
  function scaleDown(file, pixelLimit) {
    if (!window.createImageBitmap || !HTMLCanvasElement.prototype.toBlob) {
      return Promise.reject(new Error("no canvas"));
    }
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var attempt = function (side, quality) {
        var scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
        if (pixelLimit) scale = Math.min(scale, Math.sqrt(pixelLimit / (bitmap.width * bitmap.height)));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); })
          .then(function (blob) {
            if (blob && blob.size <= maxBytes) return blob;
            if (side <= 512) throw new Error("still too large");
            return attempt(Math.round(side * 0.7), 0.8);
          });
      };
      return attempt(LONGEST_SIDE, 0.9);
    });
  }

  // The most pixels the server decodes, per type (a 12 MP WebP or HEIC may be over): from the page.
  var maxPixels = {};
  var limitsScript = document.getElementById("avatar-max-pixels");
  if (limitsScript) {
    try { maxPixels = JSON.parse(limitsScript.textContent) || {}; } catch (e) { maxPixels = {}; }
  }

  function useAsIs(file, type) {
    ready = { blob: file, type: type, name: file.name };
    statusBox.hidden = true;
    setBusy(false);
    if (type === "image/heic" || type === "image/heif") {
      previewNote.textContent = "";
      preview.hidden = true; // most browsers cannot show HEIC; the server can read it
    } else {
      showPreview(file, megabytes(file.size) + " — ready to upload.");
    }
  }

  function useScaled(file, blob, why) {
    ready = { blob: blob, type: "image/jpeg", name: "photo.jpg" };
    statusBox.hidden = true;
    setBusy(false);
    showPreview(blob, "Your " + megabytes(file.size) + " photo was made smaller (" + megabytes(blob.size) + ") " + why + ".");
  }

  // Resolves with the picture's pixel count, or null when this browser cannot decode it (HEIC).
  function pixelsOf(file) {
    if (!window.createImageBitmap) return Promise.resolve(null);
    return createImageBitmap(file).then(function (bitmap) {
      var pixels = bitmap.width * bitmap.height;
      if (bitmap.close) bitmap.close();
      return pixels;
    }, function () { return null; });
  }

  // On selection (and at start: a file chosen before this deferred script ran, on a slow
  // connection, would otherwise never be checked, and Upload would do nothing).
  function selected() {
    errorBox.hidden = true;
    preview.hidden = true;
    ready = null;
    var file = input.files && input.files[0];
    if (!file) return;
    var type = typeOf(file);
    if (TYPES.indexOf(type) < 0) {
      showError("“" + file.name + "” is not a JPEG, PNG, WebP, GIF or HEIC image. Please choose a photo.");
      return;
    }
    var limit = maxPixels[type] || 0;
    setBusy(true);
    if (file.size <= maxBytes) {
      if (!limit) { useAsIs(file, type); return; }
      setStatus("Checking your photo…", null);
      pixelsOf(file).then(function (pixels) {
        if (pixels === null || pixels <= limit) { useAsIs(file, type); return; }
        setStatus("Making your " + (pixels / 1e6).toFixed(1) + "-megapixel photo smaller…", null);
        return scaleDown(file, limit).then(function (blob) {
          useScaled(file, blob, "to fit the " + (limit / 1e6).toFixed(1) + "-megapixel limit");
        });
      }).catch(function () { useAsIs(file, type); }); // the server decides, and says why
      return;
    }
    setStatus("Making your " + megabytes(file.size) + " photo smaller…", null);
    scaleDown(file, limit)
      .then(function (blob) { useScaled(file, blob, "to fit the " + megabytes(maxBytes) + " limit"); })
      .catch(function () {
        showError("This file is " + megabytes(file.size) + "; pictures may be at most " + megabytes(maxBytes) +
          " and this one could not be made smaller here. Please choose a smaller one.");
      });
  }
  input.addEventListener("change", selected);
  if (input.files && input.files.length) selected();

  // POST JSON to the app (same origin, CSRF token in the header); resolves with the JSON answer.
  function askApp(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || "The server refused the upload.");
        return data;
      });
    });
  }

  // The presigned POST: its fields first, the file last (S3 ignores fields after the file).
  function sendToS3(upload, item) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      Object.keys(upload.fields).forEach(function (name) { data.append(name, upload.fields[name]); });
      data.append("file", item.blob, item.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          var percent = Math.round((100 * event.loaded) / event.total);
          setStatus("Uploading… " + percent + "%", percent);
        }
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else if (/EntityTooLarge/.test(xhr.responseText)) reject(new Error("The file is too large: at most " + megabytes(maxBytes) + "."));
        else reject(new Error("The storage service refused the upload (" + xhr.status + ")."));
      };
      xhr.onerror = function () { reject(new Error("The upload failed: check your connection.")); };
      xhr.send(data);
    });
  }

  form.addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (!file) return; // let the server say a file is needed
    event.preventDefault();
    if (!ready) return; // refused or still being made smaller: the page says which
    errorBox.hidden = true;
    setBusy(true);
    setStatus("Uploading… 0%", 0);
    var upload;
    askApp(form.dataset.uploadUrl, { content_type: ready.type, size: ready.blob.size })
      .then(function (answer) {
        upload = answer;
        if (ready.blob.size > answer.max_bytes) throw new Error("The file is too large: at most " + megabytes(answer.max_bytes) + ".");
        return sendToS3(answer, ready);
      })
      .then(function () {
        setStatus("Uploaded 100%. Processing your picture…", 100);
        return askApp(form.dataset.doneUrl, { key: upload.key });
      })
      .then(function (done) {
        setStatus("Done.", 100);
        window.location.assign(done.redirect);
      })
      .catch(function (error) { showError(error.message); });
  });
})();
