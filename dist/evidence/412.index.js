export const id = 412;
export const ids = [412];
export const modules = {

/***/ 56412:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   uploadEvidence: () => (/* binding */ uploadEvidence)
/* harmony export */ });
/* unused harmony export uploadedFileName */
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(76760);
/* harmony import */ var node_path__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_path__WEBPACK_IMPORTED_MODULE_0__);

async function uploadEvidence(file, name, retentionDays) {
    const { DefaultArtifactClient } = await __webpack_require__.e(/* import() */ 291).then(__webpack_require__.bind(__webpack_require__, 7291));
    const client = new DefaultArtifactClient();
    const res = await client.uploadArtifact(name, [file], (0,node_path__WEBPACK_IMPORTED_MODULE_0__.dirname)(file), {
        ...(retentionDays === undefined ? {} : { retentionDays }),
    });
    return { id: res.id, name, size: res.size };
}
function uploadedFileName(file) {
    return basename(file);
}


/***/ })

};
