// Progress of a large disclosure import: asks the status URL every second until the import is done.
(function () {
  "use strict";
  function show(id, visible) {
    document.getElementById(id).hidden = !visible;
  }
  function text(id, value) {
    document.getElementById(id).textContent = value;
  }
  function render(status) {
    var bar = document.getElementById("import-bar");
    bar.value = status.percent;
    text("import-state", status.state_display);
    text("import-percent", status.done ? "" : status.percent + "%");
    text("import-read", status.rows_read);
    text("import-valid", status.rows_valid);
    text("import-rejected", status.rows_rejected);
    text("import-error", status.import_error);
    show("import-error", Boolean(status.import_error));
    if (status.report_url) {
      document.querySelector("#import-report a").href = status.report_url;
    }
    show("import-report", Boolean(status.report_url));
    show("import-batch", status.done);
  }
  function poll(url) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (status) {
        render(status);
        if (!status.done) {
          setTimeout(poll, 1000, url);
        }
      })
      .catch(function () {
        setTimeout(poll, 3000, url); // a restarting server or a dropped connection: keep asking, more slowly
      });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector(".import-progress");
    if (root) {
      poll(root.dataset.statusUrl);
    }
  });
})();
