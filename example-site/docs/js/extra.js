// Proves the site's JavaScript ran: marks the document for a browser test.
document.addEventListener("DOMContentLoaded", function () {
  document.documentElement.setAttribute("data-example-js", "ran");
  document.body.classList.add("example-js-ran");
});
