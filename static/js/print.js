// The packing slips page: the "In" button opens the print dialog (without JavaScript: Ctrl+P / Share → Print).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("print-slips");
  if (button) button.addEventListener("click", () => window.print());
});
