// libetpan as Debian's libetpan-dev installs it. Only MailUpstreamEtPan (and the stream
// driver it hands to libetpan) import this module.
#include <libetpan/libetpan.h>
