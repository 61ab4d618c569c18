// libetpan as Debian's libetpan-dev installs it. Only MailUpstreamEtPan (and the stream
// driver it hands to libetpan) import this module.
#include <libetpan/libetpan.h>

// Exported by libetpan 1.9.4 but only declared in its private headers: a raw SMTP command
// (the caller supplies CRLF) and the reply to it (returns the reply code, 0 on error).
int mailsmtp_send_command(mailsmtp * session, char * command);
int mailsmtp_read_response(mailsmtp * session);
