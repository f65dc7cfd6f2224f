// An express app with express-session (default connect.sid signed cookie)
// and cookie-parser, proxied by httpd in test_guard_apps.py.
//   node app.js          prints "PORT <n>" once it listens on 127.0.0.1:<n>
//   GET /login?user=U&sid=S&iss=I  starts a session for U; binding header
//   GET /whoami                    {"backend","user"}: the session's user or "anonymous"
'use strict';
const express = require('express');
const session = require('express-session');
const cookieParser = require('cookie-parser');

const SECRET = 'bcl-guard-node-app-secret';
const app = express();
app.use(cookieParser(SECRET));
app.use(session({ secret: SECRET, resave: false, saveUninitialized: false }));

function quote(v) {
  return '"' + String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

app.get('/login', (req, res) => {
  req.session.regenerate((err) => {
    if (err) return res.status(500).json({ error: String(err) });
    req.session.user = req.query.user;
    res.set('BCL-Session', 'iss=' + quote(req.query.iss) + ', sid=' + quote(req.query.sid) +
            ', sub=' + quote(req.query.user));
    res.json({ backend: 'node', user: req.session.user });
  });
});

app.get('/whoami', (req, res) => {
  res.json({ backend: 'node', user: (req.session && req.session.user) || 'anonymous' });
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write('PORT ' + server.address().port + '\n');
});
