// Browser notifications: the button that asks for permission, shown only while it is unanswered.

/** Show `button` while the browser has not been told yes or no; a click asks. */
export function offerNotifications(button) {
  if (!button || !("Notification" in window) || Notification.permission !== "default") return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = Notification.permission !== "default";
  });
}

/** A notification, if allowed; a click brings the page's tab to the front. */
export function notify(title, options) {
  if (!("Notification" in window) || Notification.permission !== "granted") return null;
  const notification = new Notification(title, options);
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
  return notification;
}
