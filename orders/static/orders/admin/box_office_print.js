// The print page's "Print" button opens the browser's print dialog (a static file: the CSP allows no inline script).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("print-now");
  if (button) button.addEventListener("click", () => window.print());
});
