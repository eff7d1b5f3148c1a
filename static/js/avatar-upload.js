// Direct upload to S3 with a progress bar. Progressive enhancement: without this script (or
// without XHR/FormData), the form posts the file to the app, which works just the same.
(function () {
  "use strict";
  var form = document.getElementById("avatar-form");
  if (!form || !window.FormData || !window.XMLHttpRequest || !window.fetch) return;
  var input = form.querySelector('input[type="file"]');
  var progress = document.getElementById("avatar-progress");
  var errorBox = document.getElementById("avatar-error");
  var button = form.querySelector('button[type="submit"]');
  var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]').value;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    progress.hidden = true;
    button.disabled = false;
  }

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
  function sendToS3(upload, file) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      Object.keys(upload.fields).forEach(function (name) { data.append(name, upload.fields[name]); });
      data.append("file", file);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) progress.value = Math.round((100 * event.loaded) / event.total);
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else if (/EntityTooLarge/.test(xhr.responseText)) reject(new Error("The file is too large: at most 5 MB."));
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
    errorBox.hidden = true;
    button.disabled = true;
    progress.value = 0;
    progress.hidden = false;
    var upload;
    askApp(form.dataset.uploadUrl, { content_type: file.type, size: file.size })
      .then(function (answer) {
        upload = answer;
        if (file.size > answer.max_bytes) throw new Error("The file is too large: at most 5 MB.");
        return sendToS3(answer, file);
      })
      .then(function () {
        progress.value = 100;
        return askApp(form.dataset.doneUrl, { key: upload.key });
      })
      .then(function (done) { window.location.assign(done.redirect); })
      .catch(function (error) { showError(error.message); });
  });
})();
