<?php
// PHP's own sessions behind php-fpm (mod_proxy_fcgi), test_guard_apps.py.
// Requests under /ci/ use session_name('ci_session') (CodeIgniter's name),
// the others PHP's default PHPSESSID.
//   GET .../login?user=U&sid=S&iss=I  starts a session for U; binding header
//                                     (&bits=6: session.sid_bits_per_character 6)
//   GET .../whoami                    {"backend","user"}: the session's user or "anonymous"
$uri = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$ci = strncmp($uri, '/ci/', 4) === 0;
session_name($ci ? 'ci_session' : 'PHPSESSID');
$backend = $ci ? 'php-ci_session' : 'php-PHPSESSID';
header('Content-Type: application/json');

function bcl_quote($v) {
    return '"' . str_replace(array('\\', '"'), array('\\\\', '\\"'), $v) . '"';
}

if (substr($uri, -6) === '/login') {
    if (isset($_GET['bits'])) {
        // ids with ',' and '-' (session.sid_bits_per_character 6)
        ini_set('session.sid_bits_per_character', $_GET['bits']);
        ini_set('session.sid_length', '64');
    }
    session_start();
    $_SESSION['user'] = $_GET['user'];
    header('BCL-Session: iss=' . bcl_quote($_GET['iss']) . ', sid=' . bcl_quote($_GET['sid'])
           . ', sub=' . bcl_quote($_GET['user']));
    echo json_encode(array('backend' => $backend, 'user' => $_SESSION['user']));
    exit;
}
if (isset($_COOKIE[session_name()])) {
    session_start(array('read_and_close' => true));
}
$user = isset($_SESSION['user']) ? $_SESSION['user'] : 'anonymous';
echo json_encode(array('backend' => $backend, 'user' => $user));
